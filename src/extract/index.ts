/**
 * The extraction engine's public entry points. Called inside a worker thread (thread.ts); the
 * pool there enforces the wall-clock limit, everything else (size, zip bombs, hostile XML) is
 * enforced here and in the format modules.
 */
import { detect, extensionOf } from './detect.ts';
import { EXTRACTORS } from './registry.ts';
import { countText, detectLanguage } from './text-stats.ts';
import {
  DEFAULT_EXTRACT_LIMITS,
  ExtractionError,
  type DocumentFormat,
  type ExtractLimits,
  type ExtractionResult,
} from './types.ts';

export { isIgnoredFileName } from './ignored-files.ts';
export { DEFAULT_EXTRACT_LIMITS, ExtractionError } from './types.ts';
export type { DocumentFormat, DocumentProperties, ExtractLimits, ExtractionResult, ExtractionFailureCode } from './types.ts';

/** Detect format from content (magic bytes / zip part names / OLE streams), file name only as a tie-breaker. */
export function detectFormat(bytes: Uint8Array, fileName: string): { format: DocumentFormat; mimeType: string } {
  const { format, mimeType } = detect(bytes, fileName, DEFAULT_EXTRACT_LIMITS);
  return { format, mimeType };
}

/** Extensions whose files cannot be empty and still be a document. */
const CONTAINER_EXTENSIONS = new Set([
  'docx', 'docm', 'dotx', 'dotm', 'xlsx', 'xlsm', 'pptx', 'pptm', 'odt', 'ods', 'odp', 'pdf', 'doc', 'xls', 'ppt', 'rtf', 'zip',
]);

/** Extract metadata + text. Throws ExtractionError with a code for every expected failure; never hangs on hostile input. */
export async function extractFromBytes(bytes: Uint8Array, fileName: string, limits: ExtractLimits): Promise<ExtractionResult> {
  if (bytes.length > limits.maxFileBytes) {
    throw new ExtractionError('too_large', `File is ${bytes.length} bytes; the limit is ${limits.maxFileBytes}`);
  }
  const ext = extensionOf(fileName);
  if (bytes.length === 0) {
    if (CONTAINER_EXTENSIONS.has(ext)) throw new ExtractionError('corrupt', `Empty file named .${ext}`);
    return emptyResult('other', 'application/x-empty', ['empty file']);
  }
  const detection = detect(bytes, fileName, limits);
  if (detection.encrypted) {
    throw new ExtractionError('encrypted', 'Password-protected Office document (OLE container with EncryptedPackage)');
  }
  if (detection.error) throw detection.error;
  const extractor = EXTRACTORS[detection.format];
  if (!extractor) {
    return emptyResult(detection.format, detection.mimeType, detection.note ? [detection.note] : undefined);
  }
  const out = await extractor.extract({ bytes, fileName, limits, detection });
  let text = out.text;
  let truncated = out.textTruncated ?? false;
  if (text.length > limits.maxTextChars) {
    text = text.slice(0, limits.maxTextChars);
    truncated = true;
  }
  // Counted over the body, like the counts Word and LibreOffice store, so the two compare.
  const computed = countText(text);
  const counts: Record<string, number> = {
    words: computed.words,
    characters: computed.characters,
    charactersWithSpaces: computed.charactersWithSpaces,
    paragraphs: computed.paragraphs,
    ...out.counts,
  };
  const language = detectLanguage(text.length >= 20 || !out.parts ? text : [text, ...Object.values(out.parts)].join('\n'));
  const warnings = [...(out.warnings ?? [])];
  if (detection.note) warnings.push(detection.note);
  const result: ExtractionResult = {
    mimeType: out.mimeType ?? detection.mimeType,
    format: detection.format,
    properties: out.properties,
    raw: { 'Content-Type': out.mimeType ?? detection.mimeType, ...out.raw },
    text,
    textTruncated: truncated,
    language,
    counts,
  };
  if (out.parts && Object.keys(out.parts).length > 0) result.parts = out.parts;
  if (out.structure) result.structure = out.structure;
  if (warnings.length > 0) result.warnings = warnings;
  return result;
}

function emptyResult(format: DocumentFormat, mimeType: string, warnings?: string[]): ExtractionResult {
  const result: ExtractionResult = {
    mimeType,
    format,
    properties: {},
    raw: { 'Content-Type': mimeType },
    text: '',
    textTruncated: false,
    language: 'und',
  };
  if (warnings) result.warnings = warnings;
  return result;
}
