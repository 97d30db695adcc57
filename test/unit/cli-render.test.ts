/**
 * The CLI's text for documents inside documents and OCR: a scan's OCR progress apart from its
 * extraction progress (on a pipe and on a terminal), the OCR rows of a job's summary, and the
 * contents and OCR lines of `docsight insights`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { insightsContents, insightsRollups, jobSummary } from '../../src/cli/commands.ts';
import { createProgress, ocrProgressText, type Out } from '../../src/cli/render.ts';
import type { Job, OcrProgress } from '../../src/contract.ts';

function job(ocr: OcrProgress | null, status: Job['status'] = 'running'): Job {
  return {
    id: '0b8f3c1e-5d7a-4c2b-9e61-2f4a8d9c7b10',
    kind: 'scan',
    status,
    folder: 'Scans',
    params: {},
    progress: { total: 40, done: 40, failed: 0, skipped: 0, percent: 100 },
    rate: 12.5,
    etaSeconds: null,
    createdAt: '2024-05-01T10:00:00.000Z',
    startedAt: '2024-05-01T10:00:01.000Z',
    finishedAt: status === 'running' ? null : '2024-05-01T10:05:00.000Z',
    durationMs: status === 'running' ? null : 299_000,
    error: null,
    stats: {},
    usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
    ocr,
  };
}

const reading: OcrProgress = { documents: 6, documentsDone: 2, pagesTotal: 1240, pagesDone: 310, pagesPerSecond: 1.75, etaSeconds: 532 };

function capture(isTTY: boolean): Out & { text: string } {
  const out = {
    text: '',
    isTTY,
    columns: 160,
    write(s: string) {
      out.text += s;
      return true;
    },
  };
  return out;
}

describe('CLI output for OCR and documents inside documents', () => {
  it('says pages read of pages found, documents, pages/s and the time left', () => {
    assert.equal(ocrProgressText(job(reading)), 'OCR 310/1,240 pages (2/6 documents)  1.75 pages/s  ETA 8m52s');
    assert.equal(ocrProgressText(job(null)), null);
    // Before the first page there is no pace, and a finished job has no time left.
    assert.equal(ocrProgressText(job({ ...reading, pagesDone: 0, pagesPerSecond: null, etaSeconds: null })), 'OCR 0/1,240 pages (2/6 documents)');
    assert.equal(ocrProgressText(job({ ...reading, pagesDone: 1240, documentsDone: 6, etaSeconds: 0 }, 'completed')), 'OCR 1,240/1,240 pages (6/6 documents)  1.75 pages/s');
  });

  it('a scan on a pipe prints OCR progress on a line of its own once the job has OCR work', () => {
    const out = capture(false);
    const progress = createProgress(out, 'scan 0b8f3c1e', 0);
    progress.update(job(null));
    assert.doesNotMatch(out.text, /OCR/);
    progress.update(job(reading));
    const lines = out.text.trimEnd().split('\n');
    assert.equal(lines.length, 3, out.text);
    assert.match(lines[1] ?? '', /^scan 0b8f3c1e: running 100% \(40\/40 documents\) 12\.5 docs\/s$/);
    assert.equal(lines[2], 'scan 0b8f3c1e: OCR 310/1,240 pages (2/6 documents)  1.75 pages/s  ETA 8m52s');
  });

  it('a scan on a terminal shows OCR progress beside the extraction bar', () => {
    const out = capture(true);
    const progress = createProgress(out, 'Scanning');
    progress.update(job(reading));
    progress.done();
    assert.match(out.text, /^\r\x1b\[2KScanning █+ 100\.0% {2}40\/40 {2}12\.5 docs\/s {2}\| {2}OCR 310\/1,240 pages \(2\/6 documents\) {2}1\.75 pages\/s {2}ETA 8m52s\n$/);
  });

  it('a job summary has OCR rows when the job read pages', () => {
    const done = jobSummary(job({ ...reading, documentsDone: 6, pagesDone: 1240, etaSeconds: null }, 'completed'));
    assert.match(done, /OCR documents\s+6 of 6\n/);
    assert.match(done, /OCR pages\s+1,240 of 1,240 \(1\.75 pages\/s\)\n/);
    assert.doesNotMatch(jobSummary(job(null, 'completed')), /OCR/);
  });

  it('insights print the contents and the OCR numbers with their labels', () => {
    const text = insightsContents({
      contents: { files: 1200, attachments: 85, archiveEntries: 14 },
      ocr: { scannedDocuments: 37, pagesRead: 212, lowConfidence: 3, pending: 4, failed: 1, skipped: 2 },
    });
    assert.match(text, /\nContents\n\s+files\s+1,200\n\s+attachments\s+85 \(inside e-mails\)\n\s+archive entries\s+14 \(inside archives\)\n/);
    assert.match(text, /\nScanned documents \(OCR\)\n/);
    for (const [label, value] of [['scanned documents', '37'], ['pages read', '212'], ['low confidence', '3'], ['pending', '4'], ['failed', '1'], ['skipped', '2']]) {
      assert.match(text, new RegExp(`\\n\\s+${label}\\s+${value}\\b`), label);
    }
  });

  it('insights print stale documents, personal data per kind and duplicate groups with their wasted bytes', () => {
    const text = insightsRollups(
      {
        stale: { afterYears: 7, documents: 1234, bytes: 5 * 1024 * 1024 },
        personalData: { documents: 3, findings: 9, byKind: [{ kind: 'bsn', documents: 2, findings: 5 }, { kind: 'iban', documents: 1, findings: 4 }] },
      },
      { groups: 4, exactGroups: 3, nearGroups: 1, documents: 10, wastedBytes: 2048 },
    );
    assert.match(text, /\nStale \(not modified for more than 7 years\)\n\s+documents\s+1,234\n\s+size\s+5\.0 MB\n/);
    assert.match(text, /\nPersonal data\n\s+documents\s+3 \(9 distinct values/);
    assert.match(text, /citizen service numbers \(BSN\)\s+2\s+5\n/);
    assert.match(text, /IBANs\s+1\s+4\n/);
    assert.match(text, /\nDuplicates and versions\n\s+groups\s+4 \(3 exact copies, 1 versions and near copies\)\n\s+documents\s+10\n\s+wasted\s+2\.0 KB/);
  });

  it('insights leave out what the server does not report, and say when nothing was found', () => {
    assert.equal(insightsRollups({}, null), '');
    const none = insightsRollups({ personalData: { documents: 0, findings: 0, byKind: [] } }, { groups: 0, exactGroups: 0, nearGroups: 0, documents: 0, wastedBytes: 0 });
    assert.match(none, /Personal data\n\s+none found/);
    assert.match(none, /Duplicates and versions\n\s+none found/);
    assert.doesNotMatch(none, /Stale/);
  });
});
