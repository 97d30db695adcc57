/**
 * A card listing records an admin manages (sources, webhooks): a heading, an empty state, and a
 * table of columns with the row's actions in the last cell. Pages give the columns; the markup,
 * its accessibility and its test ids are the same everywhere.
 */
import type { ReactNode } from 'react';

export interface RecordColumn<T> {
  header: string;
  cell: (row: T) => ReactNode;
}

export function RecordsCard<T>(props: {
  id: string;
  title: string;
  testId: string;
  rows: readonly T[];
  rowKey: (row: T) => string;
  columns: readonly RecordColumn<T>[];
  /** Shown instead of the table when there are no rows (and the list is not loading). */
  empty: string;
  loading?: boolean;
  actionsLabel: string;
  actions: (row: T) => ReactNode;
  current?: (row: T) => boolean;
}) {
  const { id, title, testId, rows, rowKey, columns, empty, loading, actionsLabel, actions, current } = props;
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id} className="h-small">
        {title}
      </h2>
      {rows.length === 0 && !loading ? (
        <p className="muted">{empty}</p>
      ) : (
        <div className="table-wrap">
          <table className="docs" data-testid={testId}>
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c.header} scope="col">
                    {c.header}
                  </th>
                ))}
                <th scope="col">
                  <span className="sr-only">{actionsLabel}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={rowKey(row)} aria-current={current?.(row) ? 'true' : undefined}>
                  {columns.map((c) => (
                    <td key={c.header}>{c.cell(row)}</td>
                  ))}
                  <td className="row end">{actions(row)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
