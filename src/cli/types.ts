/** The API's response shapes as the CLI reads them (see /openapi.json). */
export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface JobView {
  id: string;
  kind: 'scan' | 'classify';
  status: JobStatus;
  folder: string | null;
  params: Record<string, unknown>;
  progress: { total: number; done: number; failed: number; skipped: number; percent: number };
  rate: number | null;
  etaSeconds: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: { code: string; message: string } | null;
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
  failures?: { documentId: string; path: string; code: string; message: string }[];
}

export interface Bucket {
  key: string | null;
  count: number;
  size: number;
}

export interface FolderInsights {
  folder: string;
  lastScannedAt: string | null;
  documentCount: number;
  totalSize: number;
  oldestModified: string | null;
  newestModified: string | null;
  byStatus: Bucket[];
  byFormat: Bucket[];
  byExtension: Bucket[];
  byAuthor: Bucket[];
  byYear: Bucket[];
  byLanguage: Bucket[];
  failuresByCode: Bucket[];
  subfolders: Bucket[];
  classification: {
    classified: number;
    classifiable: number;
    coverage: number;
    needsReview: number;
    byTag: Bucket[];
    byCategory: Bucket[];
    costUsd: number;
    inputTokens: number;
    outputTokens: number;
  };
}

export interface ClassificationEstimate {
  dryRun: true;
  documents: number;
  estimatedInputTokens: number;
  estimatedOutputTokens: number;
  estimatedCostUsd: number;
  model: string;
  taxonomy: { id: string; name: string; version: number };
  folderNotScanned: boolean;
}

export const isFinal = (s: JobStatus): boolean => s === 'completed' || s === 'failed' || s === 'cancelled';
