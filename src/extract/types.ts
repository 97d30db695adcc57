/**
 * The extraction contract: what every format module returns, and the limits it must honour.
 * Extractors are pure (bytes in, result out): no database, no config reads, no network.
 */
import type { PiiKind } from '../domain/vocabulary.ts';
import type { PiiSummary } from '../pii/index.ts';

/** Coded reasons a document fails extraction; stored on the document and shown in insights. */
export type ExtractionFailureCode =
  | 'too_large'
  | 'zip_bomb'
  | 'encrypted'
  | 'corrupt'
  | 'timeout'
  | 'unsupported'
  | 'too_deep';

export class ExtractionError extends Error {
  constructor(
    readonly code: ExtractionFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'ExtractionError';
  }
}

/** Limits enforced while reading one document. All sizes in bytes. */
export interface ExtractLimits {
  /** Files larger than this are not read (failed: too_large). */
  maxFileBytes: number;
  /** Total bytes inflated from one archive (zip) before it is called a bomb. */
  maxUncompressedBytes: number;
  /** Entries in one archive. */
  maxEntries: number;
  /** Uncompressed / compressed ratio of a single archive entry. */
  maxCompressionRatio: number;
  /** Text kept per document; the rest is dropped and `textTruncated` is set. */
  maxTextChars: number;
  /** Wall-clock limit per document, enforced by the extraction pool (failed: timeout). */
  timeoutMs: number;
  /**
   * Levels of containers (e-mails, archives) opened below a file on disk: its attachments or
   * entries are level 1, theirs level 2, ... A child deeper than this is listed, failed: too_deep.
   * The children of one file also share `maxEntries` (how many) and `maxUncompressedBytes`
   * (their total size) across every level.
   */
  maxDepth: number;
  /** Kinds of personal data looked for in the text (src/pii); none or absent: detection is off. */
  piiKinds?: readonly PiiKind[];
  /**
   * Compute the MinHash signature of the text (default: yes). Off only where the signature is not
   * wanted: the extraction benchmark's baseline, which measures what signatures and detectors add.
   */
  signature?: boolean;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxFileBytes: 200 * 1024 * 1024,
  maxUncompressedBytes: 500 * 1024 * 1024,
  maxEntries: 10_000,
  maxCompressionRatio: 200,
  maxTextChars: 2_000_000,
  timeoutMs: 30_000,
  maxDepth: 3,
};

/** Format families we recognise from content. */
export type DocumentFormat =
  | 'docx'
  | 'xlsx'
  | 'pptx'
  | 'odt'
  | 'ods'
  | 'odp'
  | 'pdf'
  | 'txt'
  | 'md'
  | 'csv'
  | 'html'
  | 'rtf'
  | 'doc'
  | 'xls'
  | 'ppt'
  | 'zip'
  | 'eml'
  | 'msg'
  | 'image'
  | 'other';

/** Normalised document properties (our API's field names). Dates are ISO 8601 strings. */
export interface DocumentProperties {
  title?: string;
  subject?: string;
  creator?: string;
  keywords?: string;
  description?: string;
  lastModifiedBy?: string;
  revision?: string;
  created?: string;
  modified?: string;
  lastPrinted?: string;
  category?: string;
  contentStatus?: string;
  language?: string;
  version?: string;
  /** OPC dc:identifier (added: POI and python-docx report it). */
  identifier?: string;
  /** OPC cp:contentType (added: POI reports it). */
  contentType?: string;
  application?: string;
  appVersion?: string;
  template?: string;
  company?: string;
  manager?: string;
  pages?: number;
  words?: number;
  characters?: number;
  charactersWithSpaces?: number;
  paragraphs?: number;
  lines?: number;
  slides?: number;
  notes?: number;
  totalEditingTimeMinutes?: number;
  /** docProps/custom.xml (or the format's equivalent), with typed values. */
  custom?: Record<string, string | number | boolean>;
}

export type RawValue = string | number | boolean | string[];

export interface ExtractionResult {
  /** MIME type detected from content. */
  mimeType: string;
  format: DocumentFormat;
  properties: DocumentProperties;
  /** The same facts under the keys Apache Tika returns (dc:title, meta:page-count, ...). */
  raw: Record<string, RawValue>;
  /** Plain text of the main body (and other parts, see `parts`). */
  text: string;
  textTruncated: boolean;
  /** Text kept apart from the body where it matters (headers, footers, footnotes, comments, notes). */
  parts?: Record<string, string>;
  /** ISO 639-3 code of the text's language when it can be told ('und' when not). */
  language?: string;
  /** Counts computed from the content itself (not the stale ones producers store). */
  counts?: Record<string, number>;
  /** Structure facts: tables, images, trackedChanges, macros, encrypted, ... */
  structure?: Record<string, number | boolean>;
  /** Non-fatal observations (missing core.xml, duplicate parts, ...). */
  warnings?: string[];
  /**
   * Documents this one contains (an e-mail's attachments, an archive's entries), each extracted
   * like a file, to the configured depth. Addressed as `<parent path>#<index>/<name>`.
   */
  children?: ChildDocument[];
  /** Pages that have no usable text and must be read by OCR (images: every page). */
  ocr?: OcrNeed;
  /** Personal data found in the text and parts (masked samples only), when `piiKinds` asked for any. */
  pii?: PiiSummary;
  /**
   * MinHash signature of the body text (minhash.ts: unsigned 32-bit values), for near-duplicates
   * and versions; absent when the text is too short to compare.
   */
  signature?: number[];
}

/** Which pages of a document OCR must read, decided during extraction. */
export interface OcrNeed {
  /** 1-based page numbers; every other page's text comes from its text layer. */
  pages: number[];
  /** Pages in the document (images: frames of a multi-page TIFF, else 1). */
  pageCount: number;
}

/** A document inside another one. */
export interface ChildDocument {
  /** 1-based position among its parent's children: with the name, its address inside the parent. */
  index: number;
  /** The name it carries inside its parent, made safe: no path separators, no control characters. */
  name: string;
  kind: 'attachment' | 'archive-entry';
  size: number;
  sha256: string;
  outcome: { kind: 'extracted'; result: ExtractionResult } | { kind: 'failed'; code: ExtractionFailureCode; message: string };
}
