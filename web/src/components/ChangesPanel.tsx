/**
 * What changed in a folder: a timeline of the last 30 days with the changes per day (added,
 * changed, moved, deleted), and the documents behind a day when it is picked; and whether the
 * folder is watched (its changes scanned as they happen), with the switch for it.
 */
import { useEffect, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ApiError, asApiError, del, folderApi, get, post, query } from '../lib/api.ts';
import { useDataTick } from '../lib/changes.ts';
import { num } from '../lib/format.ts';
import { useApi } from '../lib/hooks.ts';
import { Link } from '../lib/router.tsx';
import { CHANGE_KINDS } from '../lib/vocabulary.ts';
import type { Change, ChangeDays, ChangesPage, Watch } from '../lib/types.ts';
import { PALETTE } from './ChartCard.tsx';
import { ErrorNotice } from './FolderActions.tsx';

const KIND_COLOURS = { added: PALETTE[1], changed: PALETTE[0], moved: PALETTE[3], deleted: PALETTE[7] } as const;

export function ChangesPanel({ folder }: { folder: string }) {
  const tick = useDataTick();
  const days = useApi<ChangeDays>(folderApi(folder, 'changes-by-day'), tick);
  const [day, setDay] = useState<string | null>(null);
  useEffect(() => setDay(null), [folder]);
  const list = days.data?.days ?? [];
  const total = list.reduce((n, d) => n + d.added + d.changed + d.moved + d.deleted, 0);
  return (
    <section className="card" aria-labelledby="changes-h" data-testid="changes">
      <h2 id="changes-h" className="h-small">
        Changes (last 30 days: {num(total)})
      </h2>
      <WatchSwitch folder={folder} />
      {days.error && <ErrorNotice error={days.error} />}
      {list.length === 0 ? (
        <p className="muted small">No changes recorded in the last 30 days.</p>
      ) : (
        <>
          <div style={{ height: 180 }}>
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={list} onClick={(e) => typeof e?.activeLabel === 'string' && setDay(e.activeLabel)}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="day" fontSize={11} />
                <YAxis allowDecimals={false} fontSize={11} width={36} />
                <Tooltip />
                <Legend />
                {CHANGE_KINDS.map((k) => (
                  <Bar key={k} dataKey={k} stackId="c" fill={KIND_COLOURS[k]} />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </div>
          <table className="numbers" data-testid="changes-days">
            <thead>
              <tr>
                <th scope="col">Day (UTC)</th>
                {CHANGE_KINDS.map((k) => (
                  <th key={k} scope="col" className="num">
                    {k}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {[...list].reverse().map((d) => (
                <tr key={d.day}>
                  <td>
                    <button type="button" className="linklike" onClick={() => setDay(d.day)} aria-pressed={d.day === day}>
                      {d.day}
                    </button>
                  </td>
                  {CHANGE_KINDS.map((k) => (
                    <td key={k} className="num">
                      {num(d[k])}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {day && <DayChanges folder={folder} day={day} tick={tick} />}
    </section>
  );
}

/** The changes of one UTC day (up to 500 shown). */
function DayChanges({ folder, day, tick }: { folder: string; day: string; tick: number }) {
  const res = useApi<ChangesPage>(`${folderApi(folder, 'changes')}${query({ since: `${day}T00:00:00.000Z`, limit: 500 })}`, tick);
  const end = Date.parse(`${day}T00:00:00.000Z`) + 86_400_000;
  const items = (res.data?.items ?? []).filter((c) => Date.parse(c.at) < end);
  return (
    <div data-testid="changes-of-day">
      <h3 className="h-small">Changes on {day}</h3>
      {res.error && <ErrorNotice error={res.error} />}
      <ul className="child-list">
        {items.map((c) => (
          <li key={c.id}>
            <span className="badge">{c.kind}</span> <ChangedDocument change={c} />
          </li>
        ))}
      </ul>
    </div>
  );
}

function ChangedDocument({ change: c }: { change: Change }) {
  const where = c.path ?? '(outside your folders)';
  const name = c.kind === 'deleted' ? <span>{where}</span> : <Link to={`/documents/${c.documentId}`}>{where}</Link>;
  return (
    <>
      {c.kind === 'moved' && <span className="muted small">{c.oldPath ?? '(outside your folders)'} → </span>}
      {name}
      <span className="muted small"> {new Date(c.at).toISOString().slice(11, 19)} UTC</span>
    </>
  );
}

/** Whether the folder is watched, and the button that changes it (editors and admins). */
function WatchSwitch({ folder }: { folder: string }) {
  const [watch, setWatch] = useState<Watch | null | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const ctl = new AbortController();
    setWatch(undefined);
    get<{ items: Watch[] }>('/v1/watches', ctl.signal).then(
      (r) => setWatch(r.items.find((w) => w.folder === folder) ?? null),
      (err: unknown) => {
        if (!ctl.signal.aborted) setError(asApiError(err));
      },
    );
    return () => ctl.abort();
  }, [folder]);
  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      if (watch) {
        await del(`/v1/watches/${encodeURIComponent(watch.id)}`);
        setWatch(null);
      } else {
        setWatch(await post<Watch>('/v1/watches', { folder }));
      }
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  if (watch === undefined && !error) return null;
  return (
    <div className="row" data-testid="watch-switch">
      <p className="muted small">
        {watch ? `Watched: changes are scanned as they happen${watch.autoClassify ? ' and classified' : ''}.` : 'Not watched: changes are found by scans.'}
      </p>
      <button type="button" onClick={() => void toggle()} disabled={busy}>
        {watch ? 'Stop watching' : 'Watch this folder'}
      </button>
      {error && <ErrorNotice error={error} />}
    </div>
  );
}
