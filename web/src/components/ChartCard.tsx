/**
 * A breakdown as a picture with its numbers beside it: the chart for the shape, the table for
 * the exact values (and for screen readers and keyboard users, who get the same data). A row's
 * label can be a button that filters the documents table.
 */
import { Link } from '../lib/router.tsx';
import { Bar, BarChart, CartesianGrid, Cell, Pie, PieChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { bytes, num } from '../lib/format.ts';
import type { Bucket } from '../lib/types.ts';

export const PALETTE = ['#2563eb', '#0d9488', '#d97706', '#7c3aed', '#db2777', '#65a30d', '#0891b2', '#dc2626', '#4f46e5', '#a16207'];

interface ChartCardProps {
  title: string;
  buckets: Bucket[];
  /** Plot counts (default) or sizes. */
  measure?: 'count' | 'size';
  layout?: 'horizontal' | 'vertical';
  /** Shown when there are no buckets. */
  empty?: string;
  label?: (key: string | null) => string;
  onPick?: (key: string) => void;
  pickLabel?: string;
  limit?: number;
  testId?: string;
}

const defaultLabel = (key: string | null) => key ?? '(none)';

export function ChartCard({
  title,
  buckets,
  measure = 'count',
  layout = 'horizontal',
  empty = 'Nothing to show yet.',
  label = defaultLabel,
  onPick,
  pickLabel = 'Show these documents',
  limit = 10,
  testId,
}: ChartCardProps) {
  const shown = buckets.slice(0, limit);
  const rest = buckets.slice(limit);
  const data = shown.map((b) => ({ name: label(b.key), value: measure === 'count' ? b.count : b.size }));
  const fmt = measure === 'count' ? num : bytes;
  const total = buckets.reduce((s, b) => s + (measure === 'count' ? b.count : b.size), 0);
  const height = layout === 'horizontal' ? Math.max(90, shown.length * 28 + 34) : 200;
  return (
    <section className="card chart-card" aria-labelledby={`${testId ?? title}-h`} data-testid={testId}>
      <h3 id={`${testId ?? title}-h`}>{title}</h3>
      {buckets.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <div className={`chart-body${layout === 'vertical' ? ' wide-chart' : ''}`}>
          <div className="chart" role="img" aria-label={`${title}: chart of the table beside it`}>
            <ResponsiveContainer width="100%" height={height}>
              {layout === 'horizontal' ? (
                <BarChart data={data} layout="vertical" margin={{ top: 4, right: 12, bottom: 4, left: 4 }}>
                  <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                  <XAxis type="number" tickFormatter={(v: number) => fmt(v)} fontSize={11} allowDecimals={false} />
                  <YAxis type="category" dataKey="name" width={110} fontSize={11} interval={0} tickFormatter={(v: string) => truncate(v, 16)} />
                  <Tooltip formatter={(v) => fmt(Number(v))} />
                  <Bar dataKey="value" fill={PALETTE[0]} radius={[0, 3, 3, 0]} maxBarSize={26} isAnimationActive={false} />
                </BarChart>
              ) : (
                <BarChart data={data} margin={{ top: 4, right: 8, bottom: 4, left: 4 }}>
                  <CartesianGrid strokeDasharray="3 3" vertical={false} />
                  <XAxis dataKey="name" fontSize={11} interval="preserveStartEnd" minTickGap={6} />
                  <YAxis tickFormatter={(v: number) => fmt(v)} fontSize={11} width={56} allowDecimals={false} />
                  <Tooltip formatter={(v) => fmt(Number(v))} />
                  <Bar dataKey="value" fill={PALETTE[1]} radius={[3, 3, 0, 0]} maxBarSize={48} isAnimationActive={false} />
                </BarChart>
              )}
            </ResponsiveContainer>
          </div>
          <BucketTable buckets={shown} rest={rest} measure={measure} total={total} label={label} onPick={onPick} pickLabel={pickLabel} />
        </div>
      )}
    </section>
  );
}

function BucketTable({
  buckets,
  rest,
  measure,
  total,
  label,
  onPick,
  pickLabel,
}: {
  buckets: Bucket[];
  rest: Bucket[];
  measure: 'count' | 'size';
  total: number;
  label: (key: string | null) => string;
  onPick?: (key: string) => void;
  pickLabel: string;
}) {
  const restCount = rest.reduce((s, b) => s + b.count, 0);
  const restSize = rest.reduce((s, b) => s + b.size, 0);
  const value = (b: { count: number; size: number }) => (measure === 'count' ? b.count : b.size);
  return (
    <table className="numbers">
      <thead>
        <tr>
          <th scope="col">Value</th>
          <th scope="col" className="num">
            Docs
          </th>
          <th scope="col" className="num">
            Size
          </th>
          <th scope="col" className="num">
            Share
          </th>
        </tr>
      </thead>
      <tbody>
        {buckets.map((b) => (
          <tr key={b.key ?? '(none)'}>
            <th scope="row">
              {onPick && b.key !== null ? (
                <button type="button" className="linklike" onClick={() => onPick(b.key as string)} title={`${pickLabel}: ${label(b.key)}`}>
                  {label(b.key)}
                </button>
              ) : (
                label(b.key)
              )}
            </th>
            <td className="num">{num(b.count)}</td>
            <td className="num">{bytes(b.size)}</td>
            <td className="num">{total > 0 ? `${Math.round((value(b) / total) * 100)}%` : '–'}</td>
          </tr>
        ))}
        {rest.length > 0 && (
          <tr className="muted">
            <th scope="row">{rest.length} more</th>
            <td className="num">{num(restCount)}</td>
            <td className="num">{bytes(restSize)}</td>
            <td className="num">{total > 0 ? `${Math.round(((measure === 'count' ? restCount : restSize) / total) * 100)}%` : '–'}</td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

/** Classified vs not classified, as a ring with the numbers beside it. */
export function CoverageCard({
  classified,
  classifiable,
  needsReview,
  reviewed,
  reviewHref,
}: {
  classified: number;
  classifiable: number;
  needsReview: number;
  reviewed: number;
  /** The folder's review queue in the dashboard. */
  reviewHref: string;
}) {
  const rest = Math.max(0, classifiable - classified);
  const data = [
    { name: 'Classified', value: classified },
    { name: 'Not classified', value: rest },
  ];
  const ratio = classifiable > 0 ? classified / classifiable : 0;
  return (
    <section className="card chart-card" aria-labelledby="coverage-h" data-testid="coverage">
      <h3 id="coverage-h">Classification coverage</h3>
      <div className="chart-body">
        <div className="chart ring" role="img" aria-label={`${Math.round(ratio * 100)}% of classifiable documents are classified`}>
          <ResponsiveContainer width="100%" height={160}>
            <PieChart>
              <Pie data={classifiable > 0 ? data : [{ name: 'None', value: 1 }]} dataKey="value" innerRadius={48} outerRadius={70} isAnimationActive={false} stroke="none">
                {classifiable > 0 ? (
                  [<Cell key="c" fill={PALETTE[1]} />, <Cell key="n" fill="#e5e7eb" />]
                ) : (
                  <Cell fill="#e5e7eb" />
                )}
              </Pie>
            </PieChart>
          </ResponsiveContainer>
          <div className="ring-label">{Math.round(ratio * 100)}%</div>
        </div>
        <dl className="kv">
          <dt>Classified</dt>
          <dd>{num(classified)}</dd>
          <dt>Not classified</dt>
          <dd>{num(rest)}</dd>
          <dt>Classifiable</dt>
          <dd>{num(classifiable)}</dd>
          <dt>Needs review</dt>
          <dd>{needsReview > 0 ? <Link to={reviewHref}>{num(needsReview)} · review</Link> : num(needsReview)}</dd>
          <dt>Reviewed</dt>
          <dd>{num(reviewed)}</dd>
        </dl>
      </div>
    </section>
  );
}

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
