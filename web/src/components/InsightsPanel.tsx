/** Folder insights: cards with the headline numbers, then every breakdown as a chart with its table. */
import { bytes, date, dateTime, num, PII_LABELS, percent, usd } from '../lib/format.ts';
import { folderHref, navigate, reviewHref } from '../lib/router.tsx';
import type { FolderInsights } from '../lib/types.ts';
import { ChartCard, CoverageCard } from './ChartCard.tsx';
import type { Filters } from './DocumentsTable.tsx';

export function InsightsPanel({ insights: ins, onFilter }: { insights: FolderInsights; onFilter(f: Partial<Filters>): void }) {
  const failed = ins.byStatus.find((b) => b.key === 'failed')?.count ?? 0;
  const c = ins.classification;
  const name = (f: string | null) => (f ? (f.split('/').at(-1) ?? f) : '(root)');
  return (
    <>
      <div className="cards" data-testid="summary-cards">
        <Stat label="Documents" value={num(ins.documentCount)} testId="stat-documents" note="including subfolders" />
        <Stat label="Total size" value={bytes(ins.totalSize)} testId="stat-size" />
        <Stat label="Modified" value={ins.oldestModified ? `${date(ins.oldestModified)} – ${date(ins.newestModified)}` : '–'} small />
        <Stat label="Last scanned" value={dateTime(ins.lastScannedAt)} small />
        <Stat label="Classified" value={percent(c.coverage)} testId="stat-coverage" note={`${num(c.classified)} of ${num(c.classifiable)}`} />
        <Stat label="Failed" value={num(failed)} testId="stat-failed" tone={failed > 0 ? 'bad' : undefined} note="could not be read" />
      </div>

      <div className="two-col">
        <ContentsPanel contents={ins.contents} onFilter={onFilter} />
        <OcrPanel ocr={ins.ocr} onFilter={onFilter} />
        <PersonalDataPanel data={ins.personalData} onFilter={onFilter} />
      </div>

      <div className="charts">
        <ChartCard title="By type" testId="chart-format" buckets={ins.byFormat} onPick={(k) => onFilter({ format: k })} pickLabel="Only this type" />
        <ChartCard title="By author" testId="chart-author" buckets={ins.byAuthor} onPick={(k) => onFilter({ author: k })} pickLabel="Only this author" />
        <ChartCard
          title="By year modified"
          testId="chart-year"
          layout="vertical"
          buckets={[...ins.byYear].sort((a, b) => String(a.key).localeCompare(String(b.key)))}
          limit={30}
        />
        <ChartCard title="Size by type" testId="chart-size" measure="size" buckets={[...ins.byFormat].sort((a, b) => b.size - a.size)} />
        <ChartCard
          title="Subfolders"
          testId="chart-subfolders"
          buckets={ins.subfolders}
          label={name}
          onPick={(k) => navigate(folderHref(k))}
          pickLabel="Open folder"
          empty="No subfolders with documents."
        />
        <ChartCard title="By extension" testId="chart-extension" buckets={ins.byExtension} onPick={(k) => onFilter({ extension: k })} pickLabel="Only this extension" />
        <CoverageCard
          classified={c.classified}
          classifiable={c.classifiable}
          needsReview={c.needsReview}
          reviewed={c.reviewed}
          reviewHref={reviewHref(ins.folder)}
        />
        <ChartCard
          title="By tag"
          testId="chart-tag"
          buckets={c.byTag}
          onPick={(k) => onFilter({ tag: k })}
          pickLabel="Only this tag"
          empty="No classified documents yet."
        />
        <ChartCard title="By category" testId="chart-category" buckets={c.byCategory} empty="No classified documents yet." />
        <ChartCard title="By status" testId="chart-status" buckets={ins.byStatus} onPick={(k) => onFilter({ status: k })} pickLabel="Only this status" />
        <ChartCard title="Failures by reason" testId="chart-failures" buckets={ins.failuresByCode} empty="No failures." />
        <ChartCard title="By language" testId="chart-language" buckets={ins.byLanguage} />
      </div>
      {c.costUsd > 0 && (
        <p className="muted small">
          Classification so far: {num(c.inputTokens)} input and {num(c.outputTokens)} output tokens, {usd(c.costUsd)}.
        </p>
      )}
    </>
  );
}

/** Files on disk and the documents inside them; each number filters the table to its kind. */
function ContentsPanel({ contents: c, onFilter }: { contents: FolderInsights['contents']; onFilter(f: Partial<Filters>): void }) {
  return (
    <section className="card" aria-labelledby="contents-h" data-testid="contents-panel">
      <h2 id="contents-h" className="h-small">
        Contents
      </h2>
      <dl className="kv counts">
        <Count label="Files" value={c.files} testId="contents-files" onPick={() => onFilter({ origin: 'file' })} />
        <Count label="E-mail attachments" value={c.attachments} testId="contents-attachments" onPick={() => onFilter({ origin: 'attachment' })} />
        <Count label="Archive entries" value={c.archiveEntries} testId="contents-archive-entries" onPick={() => onFilter({ origin: 'archive-entry' })} />
      </dl>
      <p className="muted small">Attachments and archive entries are documents of their own, listed and searched like files.</p>
    </section>
  );
}

/** What OCR made of the scanned documents; each count of documents filters the table. */
function OcrPanel({ ocr: o, onFilter }: { ocr: FolderInsights['ocr']; onFilter(f: Partial<Filters>): void }) {
  return (
    <section className="card" aria-labelledby="ocr-h" data-testid="ocr-panel">
      <h2 id="ocr-h" className="h-small">
        Scanned documents (OCR)
      </h2>
      <dl className="kv counts">
        <Count label="Scanned documents" value={o.scannedDocuments} testId="ocr-scanned" onPick={() => onFilter({ ocr: 'done' })} />
        <Count label="Pages read" value={o.pagesRead} testId="ocr-pages" />
        <Count label="Low confidence" value={o.lowConfidence} testId="ocr-low" tone={o.lowConfidence > 0 ? 'warn' : undefined} onPick={() => onFilter({ ocr: 'low-confidence' })} />
        <Count label="Pending" value={o.pending} testId="ocr-pending" onPick={() => onFilter({ ocr: 'pending' })} />
        <Count label="Failed" value={o.failed} testId="ocr-failed" tone={o.failed > 0 ? 'bad' : undefined} onPick={() => onFilter({ ocr: 'failed' })} />
        <Count label="Skipped" value={o.skipped} testId="ocr-skipped" onPick={() => onFilter({ ocr: 'skipped' })} />
      </dl>
      {o.skipped > 0 && <p className="muted small">Skipped: OCR is off, or limited to other folders.</p>}
    </section>
  );
}

/** Documents in which extraction found personal data, per kind (each count filters the table); never the values. */
function PersonalDataPanel({ data: p, onFilter }: { data: FolderInsights['personalData']; onFilter(f: Partial<Filters>): void }) {
  return (
    <section className="card" aria-labelledby="pii-h" data-testid="personal-data-panel">
      <h2 id="pii-h" className="h-small">
        Personal data
      </h2>
      <dl className="kv counts">
        <Count label="Documents with personal data" value={p.documents} testId="pii-documents" tone={p.documents > 0 ? 'warn' : undefined} onPick={() => onFilter({ sensitive: 'any' })} />
        {p.byKind.map((k) => (
          <Count key={k.kind} label={PII_LABELS[k.kind]} value={k.documents} testId={`pii-${k.kind}`} onPick={() => onFilter({ sensitive: k.kind })} />
        ))}
      </dl>
      <p className="muted small">{p.documents > 0 ? `${num(p.findings)} distinct values found; only masked samples are stored.` : 'None found (or detection is off).'}</p>
    </section>
  );
}

function Count({ label, value, testId, tone, onPick }: { label: string; value: number; testId: string; tone?: 'warn' | 'bad'; onPick?: () => void }) {
  return (
    <div className="kv-row">
      <dt>{label}</dt>
      <dd className={`num${tone ? ` text-${tone}` : ''}`}>
        {onPick && value > 0 ? (
          <button type="button" className="linklike" data-testid={testId} onClick={onPick} title={`List only these: ${label.toLowerCase()}`}>
            {num(value)}
          </button>
        ) : (
          <span data-testid={testId}>{num(value)}</span>
        )}
      </dd>
    </div>
  );
}

function Stat({ label, value, note, testId, tone, small }: { label: string; value: string; note?: string; testId?: string; tone?: 'bad'; small?: boolean }) {
  return (
    <div className="card stat">
      <div className="stat-label">{label}</div>
      <div className={`stat-value${small ? ' small' : ''}${tone ? ` text-${tone}` : ''}`} data-testid={testId}>
        {value}
      </div>
      {note && <div className="stat-note">{note}</div>}
    </div>
  );
}
