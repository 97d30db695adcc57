/**
 * The interface every format module implements, and the context it receives. Extractors get
 * everything explicitly (bytes, limits, what detection already learned) and read nothing global.
 */
import type { ChildDocument, DocumentFormat, ExtractLimits, ExtractionResult } from './types.ts';
import type { OleFile } from './ole.ts';
import type { ExtractionError } from './types.ts';
import type { ZipArchive } from './zip.ts';

export interface Detection {
  format: DocumentFormat;
  mimeType: string;
  /** The opened archive when detection had to look inside a zip (so it is parsed once). */
  zip?: ZipArchive;
  /** The opened compound file for OLE formats. */
  ole?: OleFile;
  /** Password-protected OOXML (an OLE container holding EncryptedPackage). */
  encrypted?: boolean;
  /** The container is damaged: detection fell back on the name; extraction reports this error. */
  error?: ExtractionError;
  /** Why detection decided as it did, when content and name disagree. */
  note?: string;
}

export interface ExtractInput {
  bytes: Uint8Array;
  fileName: string;
  limits: ExtractLimits;
  detection: Detection;
}

/**
 * A document inside a container, as its extractor lists it: the engine reads it, hashes it and
 * extracts it (or records why not), so limits and depth are enforced in one place. Reading is
 * deferred so that one archive entry at a time is inflated and dropped after its extraction.
 */
export interface ChildSource {
  /** The name as the container stores it, untrusted (the engine makes it safe). */
  name: string;
  kind: ChildDocument['kind'];
  /** The child's bytes; throws ExtractionError (encrypted, zip_bomb, corrupt) when it cannot be read. */
  read(): Uint8Array;
}

/** What an extractor returns; language, counts, truncation and children are filled in by the engine. */
export type ExtractorOutput = Omit<ExtractionResult, 'mimeType' | 'format' | 'textTruncated' | 'language' | 'children'> & {
  textTruncated?: boolean;
  mimeType?: string;
  /** The documents this one contains, in order: their 1-based position is their index. */
  childSources?: ChildSource[];
};

export interface Extractor {
  /** Formats this module handles (the registry key). */
  readonly formats: readonly DocumentFormat[];
  extract(input: ExtractInput): Promise<ExtractorOutput> | ExtractorOutput;
}
