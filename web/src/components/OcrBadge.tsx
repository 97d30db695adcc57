/** What OCR made of a document, as a badge: its mean confidence, or where OCR stands. */
import type { DocumentOcr } from '../lib/types.ts';

const TONE: Record<DocumentOcr['status'], string> = { done: 'ok', pending: 'muted', failed: 'bad', skipped: 'muted' };

export function OcrBadge({ ocr }: { ocr: DocumentOcr }) {
  if (ocr.status === 'done') {
    const confidence = ocr.confidence !== null ? ` ${Math.round(ocr.confidence)}%` : '';
    return (
      <span
        className={`badge tone-${ocr.lowConfidence ? 'warn' : 'ok'}`}
        data-testid="ocr-badge"
        title={`Text read by OCR, mean word confidence${confidence}${ocr.lowConfidence ? ': low, the text may be unreliable' : ''}`}
      >
        OCR{confidence}
        {ocr.lowConfidence ? ' · low' : ''}
      </span>
    );
  }
  return (
    <span className={`badge tone-${TONE[ocr.status]}`} data-testid="ocr-badge" title={ocr.error ? `${ocr.error.code}: ${ocr.error.message ?? ''}` : undefined}>
      OCR {ocr.status}
    </span>
  );
}

/** "archive-entry" → "archive entry": how the dashboard names a document's origin. */
export const originLabel = (origin: string): string => origin.replace('-', ' ');
