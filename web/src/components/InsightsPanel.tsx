/** Folder insights: cards with the headline numbers, then every breakdown as a chart with its table. */
import { bytes, date, dateTime, num, percent, usd } from '../lib/format.ts';
import { folderHref, navigate } from '../lib/router.tsx';
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
        <CoverageCard classified={c.classified} classifiable={c.classifiable} needsReview={c.needsReview} />
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
