/**
 * Which source a path belongs to: a path whose first segment is a bucket source's name is that
 * bucket's; every other path is the documents root's, as it always was. One reader per bucket
 * source, rebuilt when its record changes.
 */
import { notFound } from '../domain/errors.ts';
import { normalizeRelativePath } from '../domain/paths.ts';
import type { SourceRecord, SourcesRepository } from '../store/sources.repository.ts';
import type { DocsRoot } from './docs-root.ts';
import { createS3Source } from './s3-source.ts';
import type { SecretBox } from './secrets.ts';
import { localSource, type SourceReader } from './source-reader.ts';

export interface ResolvedSourceFolder {
  /** Normalised folder path (the source's name first for buckets). */
  rel: string;
  reader: SourceReader;
  /**
   * Names of bucket sources, when the folder is the root of DOCS_ROOT: their paths are not the
   * root's to walk or to mark deleted.
   */
  otherSources: string[];
}

/** What resolves a folder path of a request (the API's services need no more). */
export interface FolderResolver {
  resolveFolder(input: string): Promise<{ rel: string }>;
}

export interface SourceRegistryDeps {
  repo: Pick<SourcesRepository, 'find' | 'list'>;
  docsRoot: DocsRoot;
  secrets: SecretBox;
  s3: { timeoutMs: number; maxAttempts: number };
  allowHardlinks: boolean;
  isIgnoredName: (name: string) => boolean;
}

export function createSourceRegistry(deps: SourceRegistryDeps) {
  const local = localSource(deps.docsRoot, { allowHardlinks: deps.allowHardlinks, isIgnoredName: deps.isIgnoredName });
  const readers = new Map<string, { version: number; reader: ReturnType<typeof createS3Source> }>();

  function readerOf(record: SourceRecord): SourceReader {
    const version = record.updatedAt.getTime();
    const known = readers.get(record.name);
    if (known?.version === version) return known.reader;
    known?.reader.close();
    const credentials =
      record.accessKeyIdEnc && record.secretAccessKeyEnc
        ? { accessKeyId: deps.secrets.open(record.accessKeyIdEnc), secretAccessKey: deps.secrets.open(record.secretAccessKeyEnc) }
        : null;
    const reader = createS3Source(
      {
        name: record.name,
        bucket: record.bucket,
        prefix: record.prefix,
        endpoint: record.endpoint,
        region: record.region,
        forcePathStyle: record.forcePathStyle,
        credentials,
        ...deps.s3,
      },
      deps.isIgnoredName,
    );
    readers.set(record.name, { version, reader });
    return reader;
  }

  const firstSegment = (rel: string) => rel.split('/', 1)[0] ?? '';

  return {
    /**
     * Resolve a folder path from a request or a job. Bucket folders are prefixes: any folder inside
     * a known source resolves without asking the bucket (the scan does, and fails with a code);
     * folders of the root must exist on disk (404 otherwise).
     */
    async resolveFolder(input: string): Promise<ResolvedSourceFolder> {
      const rel = normalizeRelativePath(input);
      const record = rel === '' ? undefined : await deps.repo.find(firstSegment(rel));
      if (record) return { rel, reader: readerOf(record), otherSources: [] };
      const onDisk = await deps.docsRoot.resolveFolder(rel);
      const otherSources = onDisk.rel === '' ? (await deps.repo.list()).map((s) => s.name) : [];
      return { rel: onDisk.rel, reader: local, otherSources };
    },

    /** The reader of a recorded document path. */
    async readerFor(docPath: string): Promise<SourceReader> {
      const first = firstSegment(docPath);
      if (first === docPath) return local;
      const record = await deps.repo.find(first);
      return record ? readerOf(record) : local;
    },

    /** The reader of a source by name (404 when there is none). */
    async reader(name: string): Promise<SourceReader> {
      const record = await deps.repo.find(name);
      if (!record) throw notFound(`Source not found: ${name}`);
      return readerOf(record);
    },

    close(): void {
      for (const { reader } of readers.values()) reader.close();
      readers.clear();
    },
  };
}

export type SourceRegistry = ReturnType<typeof createSourceRegistry>;
