/**
 * Evaluations: how well classification matches gold labels. Import labels, start a run, read a
 * run (per-label precision, recall and F1 as a chart with its table, the confusion matrix of
 * primary categories, cost and latency, exact-match accuracy per custom field), and compare two
 * runs side by side.
 */
import { type FormEvent, useEffect, useState } from 'react';
import { Bar, BarChart, CartesianGrid, LabelList, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ErrorNotice } from '../components/FolderActions.tsx';
import { ApiError, asApiError, authHeaders, errorFrom, post } from '../lib/api.ts';
import { dateTime, num, percent, usd } from '../lib/format.ts';
import { useApi } from '../lib/hooks.ts';
import type { Evaluation, EvaluationComparison, EvaluationMetrics, LabelImportReport, Taxonomy } from '../lib/types.ts';

const COLORS = { precision: '#2563eb', recall: '#16a34a', f1: '#f59e0b', a: '#94a3b8', b: '#2563eb' };
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : percent(x));
const signed = (x: number | null) => (x === null ? '–' : `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)}`);

function StartForm({ onStarted }: { onStarted(e: Evaluation): void }) {
  const taxonomies = useApi<{ items: Taxonomy[] }>('/v1/taxonomies');
  const [path, setPath] = useState('');
  const [taxonomy, setTaxonomy] = useState('');
  const [model, setModel] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const fail = (err: unknown) => setError(asApiError(err));

  const importLabels = async () => {
    if (!file || !taxonomy) return;
    setError(null);
    try {
      const res = await fetch(`/v1/evaluations/labels?taxonomy=${encodeURIComponent(taxonomy)}`, {
        method: 'POST',
        headers: { ...authHeaders(), 'content-type': 'application/x-ndjson', accept: 'application/json' },
        body: await file.text(),
      });
      if (!res.ok) throw await errorFrom(res);
      const r = (await res.json()) as LabelImportReport;
      setNote(`Imported ${num(r.imported)} label(s)${r.errors.length ? `; refused: ${r.errors.map((e) => `line ${e.line} (${e.code})`).join(', ')}` : ''}.`);
    } catch (err) {
      fail(err);
    }
  };
  const start = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      onStarted(await post<Evaluation>('/v1/evaluations', { path: path || '.', ...(taxonomy ? { taxonomy } : {}), ...(model ? { model } : {}) }));
    } catch (err) {
      fail(err);
    }
  };
  return (
    <form className="card" onSubmit={(e) => void start(e)} aria-label="Start an evaluation">
      <h2>New evaluation</h2>
      <label>
        Folder <input value={path} onChange={(e) => setPath(e.target.value)} placeholder=". (documents root)" />
      </label>{' '}
      <label>
        Taxonomy{' '}
        <select value={taxonomy} onChange={(e) => setTaxonomy(e.target.value)}>
          <option value="">internal-documents</option>
          {taxonomies.data?.items.map((t) => (
            <option key={t.id} value={t.name}>
              {t.name} (v{t.version})
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        Model{' '}
        <input
          value={model}
          onChange={(e) => setModel(e.target.value)}
          placeholder="the workers' model"
          title="Another model of the same provider is asked for the labelled documents; its results are kept beside the documents' own"
        />
      </label>{' '}
      <button type="submit" className="btn primary">
        Evaluate
      </button>
      <p className="muted">
        Gold labels: reviewer corrections, or a JSON Lines file of <code>{'{"path", "tags": [...], "primaryCategory"}'}</code>:{' '}
        <input type="file" accept=".jsonl,.ndjson,.txt" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />{' '}
        <button type="button" className="btn small" disabled={!file || !taxonomy} onClick={() => void importLabels()}>
          Import labels
        </button>
      </p>
      {note && <p className="notice">{note}</p>}
      {error && <ErrorNotice error={error} />}
    </form>
  );
}

function MetricsView({ m }: { m: EvaluationMetrics }) {
  const data = m.perLabel.map((l) => ({ label: l.label, precision: l.precision, recall: l.recall, f1: l.f1 }));
  return (
    <>
      <dl className="kv">
        <dt>Micro P / R / F1</dt>
        <dd>
          {pct(m.micro.precision)} / {pct(m.micro.recall)} / {pct(m.micro.f1)}
        </dd>
        <dt>Macro P / R / F1</dt>
        <dd>
          {pct(m.macro.precision)} / {pct(m.macro.recall)} / {pct(m.macro.f1)}
        </dd>
        <dt>Primary category accuracy</dt>
        <dd>
          {pct(m.primaryAccuracy)} of {num(m.primaryCompared)}
        </dd>
        <dt>Documents</dt>
        <dd>
          {num(m.scored)} scored{m.unpredicted ? `, ${num(m.unpredicted)} without a prediction` : ''}
        </dd>
        <dt>Cost</dt>
        <dd>
          {usd(m.costUsd.total)}
          {m.costUsd.perDocument !== null ? ` (${usd(m.costUsd.perDocument)} a document)` : ''}
        </dd>
        <dt>Latency</dt>
        <dd>{m.latencyMs.mean === null ? '–' : `${num(m.latencyMs.mean)} ms mean, p95 ${num(m.latencyMs.p95)} ms`}</dd>
      </dl>
      <div className="chart" role="img" aria-label="Precision, recall and F1 per label">
        <ResponsiveContainer width="100%" height={Math.max(200, data.length * 60)}>
          <BarChart data={data} layout="vertical" margin={{ left: 40, right: 40 }}>
            <CartesianGrid horizontal={false} />
            <XAxis type="number" domain={[0, 1]} tickFormatter={(v: number) => percent(v)} />
            <YAxis type="category" dataKey="label" width={160} />
            <Tooltip formatter={(v) => percent(Number(v))} />
            <Legend />
            {(['precision', 'recall', 'f1'] as const).map((k) => (
              <Bar key={k} dataKey={k} name={k === 'f1' ? 'F1' : k} fill={COLORS[k]} isAnimationActive={false}>
                <LabelList dataKey={k} position="right" formatter={(v) => percent(Number(v))} />
              </Bar>
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
      <table className="data" data-testid="eval-labels">
        <thead>
          <tr>
            <th>Label</th>
            <th className="num">Support</th>
            <th className="num">Predicted</th>
            <th className="num">Precision</th>
            <th className="num">Recall</th>
            <th className="num">F1</th>
          </tr>
        </thead>
        <tbody>
          {m.perLabel.map((l) => (
            <tr key={l.label}>
              <td>{l.label}</td>
              <td className="num">{num(l.support)}</td>
              <td className="num">{num(l.predicted)}</td>
              <td className="num">{pct(l.precision)}</td>
              <td className="num">{pct(l.recall)}</td>
              <td className="num">{pct(l.f1)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {m.confusion.labels.length > 0 && (
        <table className="data confusion" data-testid="eval-confusion">
          <caption>Primary category: gold (rows) against predicted (columns)</caption>
          <thead>
            <tr>
              <th />
              {m.confusion.labels.map((l) => (
                <th key={l} className="num">
                  {l}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {m.confusion.labels.map((g, i) => (
              <tr key={g}>
                <th>{g}</th>
                {(m.confusion.counts[i] ?? []).map((n, j) => (
                  <td key={m.confusion.labels[j]} className={`num${i === j && n > 0 ? ' hit' : ''}`}>
                    {n || ''}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {m.fields.length > 0 && (
        <table className="data" data-testid="eval-fields">
          <caption>Custom fields: exact-match accuracy</caption>
          <thead>
            <tr>
              <th>Field</th>
              <th className="num">Compared</th>
              <th className="num">Correct</th>
              <th className="num">Accuracy</th>
            </tr>
          </thead>
          <tbody>
            {m.fields.map((f) => (
              <tr key={f.field}>
                <td>{f.field}</td>
                <td className="num">{num(f.compared)}</td>
                <td className="num">{num(f.correct)}</td>
                <td className="num">{pct(f.accuracy)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

type Averages = EvaluationComparison['delta']['micro'];

function AverageRow({ name, a, b, delta }: { name: string; a: Averages | undefined; b: Averages | undefined; delta: Averages }) {
  return (
    <tr>
      <th>{name}</th>
      <td className="num">{pct(a?.f1)}</td>
      <td className="num">{pct(b?.f1)}</td>
      <td className="num">{signed(delta.f1)}</td>
      <td className="num">{signed(delta.precision)}</td>
      <td className="num">{signed(delta.recall)}</td>
    </tr>
  );
}

function ComparisonView({ c }: { c: EvaluationComparison }) {
  const data = c.delta.perLabel.map((l) => ({ label: l.label, a: l.a?.f1 ?? 0, b: l.b?.f1 ?? 0 }));
  const name = (e: Evaluation) => `${e.model} · ${e.taxonomy.name} v${e.taxonomy.version}`;
  return (
    <section className="card" aria-labelledby="cmp-h" data-testid="eval-compare">
      <h2 id="cmp-h">
        A: {name(c.a)} — B: {name(c.b)}
      </h2>
      <div className="chart" role="img" aria-label="F1 per label, A against B">
        <ResponsiveContainer width="100%" height={Math.max(200, data.length * 50)}>
          <BarChart data={data} layout="vertical" margin={{ left: 40, right: 40 }}>
            <CartesianGrid horizontal={false} />
            <XAxis type="number" domain={[0, 1]} tickFormatter={(v: number) => percent(v)} />
            <YAxis type="category" dataKey="label" width={160} />
            <Tooltip formatter={(v) => percent(Number(v))} />
            <Legend />
            <Bar dataKey="a" name="F1 A" fill={COLORS.a} isAnimationActive={false}>
              <LabelList dataKey="a" position="right" formatter={(v) => percent(Number(v))} />
            </Bar>
            <Bar dataKey="b" name="F1 B" fill={COLORS.b} isAnimationActive={false}>
              <LabelList dataKey="b" position="right" formatter={(v) => percent(Number(v))} />
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
      <table className="data">
        <thead>
          <tr>
            <th>Label</th>
            <th className="num">F1 A</th>
            <th className="num">F1 B</th>
            <th className="num">ΔF1</th>
            <th className="num">ΔPrecision</th>
            <th className="num">ΔRecall</th>
          </tr>
        </thead>
        <tbody>
          {c.delta.perLabel.map((l) => (
            <tr key={l.label}>
              <td>{l.label}</td>
              <td className="num">{pct(l.a?.f1)}</td>
              <td className="num">{pct(l.b?.f1)}</td>
              <td className="num">{signed(l.f1)}</td>
              <td className="num">{signed(l.precision)}</td>
              <td className="num">{signed(l.recall)}</td>
            </tr>
          ))}
          <AverageRow name="Micro" a={c.a.metrics?.micro} b={c.b.metrics?.micro} delta={c.delta.micro} />
          <AverageRow name="Macro" a={c.a.metrics?.macro} b={c.b.metrics?.macro} delta={c.delta.macro} />
        </tbody>
      </table>
      {c.delta.fields.length > 0 && (
        <table className="data" data-testid="eval-compare-fields">
          <caption>Custom fields: exact-match accuracy</caption>
          <thead>
            <tr>
              <th>Field</th>
              <th className="num">Accuracy A</th>
              <th className="num">Accuracy B</th>
              <th className="num">Δ</th>
            </tr>
          </thead>
          <tbody>
            {c.delta.fields.map((f) => (
              <tr key={f.field}>
                <td>{f.field}</td>
                <td className="num">{pct(f.a?.accuracy)}</td>
                <td className="num">{pct(f.b?.accuracy)}</td>
                <td className="num">{signed(f.accuracy)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted">
        Primary category accuracy {pct(c.a.metrics?.primaryAccuracy)} → {pct(c.b.metrics?.primaryAccuracy)} ({signed(c.delta.primaryAccuracy)}); mean latency{' '}
        {c.delta.latencyMeanMs === null ? '–' : `${c.delta.latencyMeanMs > 0 ? '+' : ''}${num(c.delta.latencyMeanMs)} ms`}.
      </p>
    </section>
  );
}

export function EvaluationsPage() {
  const [tick, setTick] = useState(0);
  const list = useApi<{ items: Evaluation[] }>('/v1/evaluations?limit=50', tick);
  const [selected, setSelected] = useState<string | null>(null);
  const [pair, setPair] = useState<string[]>([]);
  const runs = list.data?.items ?? [];
  const running = runs.some((e) => e.status === 'running');
  useEffect(() => {
    document.title = 'Evaluations · docsight';
  }, []);
  // A run still classifying: look again every 2 s until it has its metrics.
  useEffect(() => {
    if (!running) return;
    const t = setTimeout(() => setTick((n) => n + 1), 2000);
    return () => clearTimeout(t);
  }, [running, tick]);
  const current = runs.find((e) => e.id === selected) ?? runs[0] ?? null;
  const [a, b] = pair;
  const cmp = useApi<EvaluationComparison>(a && b ? `/v1/evaluations/compare?a=${a}&b=${b}` : null);
  const toggle = (id: string) => setPair((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p.slice(-1), id]));

  return (
    <div className="page">
      <h1>Evaluations</h1>
      <StartForm
        onStarted={(e) => {
          setSelected(e.id);
          setTick((n) => n + 1);
        }}
      />
      {list.error && <ErrorNotice error={list.error} />}
      {runs.length > 0 && (
        <table className="data" data-testid="eval-runs">
          <thead>
            <tr>
              <th>Compare</th>
              <th>Started</th>
              <th>Folder</th>
              <th>Taxonomy</th>
              <th>Model</th>
              <th>Status</th>
              <th className="num">Documents</th>
              <th className="num">Micro F1</th>
              <th className="num">Accuracy</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((e) => (
              <tr key={e.id} className={current?.id === e.id ? 'selected' : ''}>
                <td>
                  <input type="checkbox" aria-label={`Compare ${e.id}`} checked={pair.includes(e.id)} onChange={() => toggle(e.id)} />
                </td>
                <td>
                  <button type="button" className="btn small" onClick={() => setSelected(e.id)}>
                    {dateTime(e.createdAt)}
                  </button>
                </td>
                <td>{e.path || '.'}</td>
                <td>
                  {e.taxonomy.name} v{e.taxonomy.version}
                </td>
                <td>{e.model}</td>
                <td>{e.status}</td>
                <td className="num">{num(e.documents)}</td>
                <td className="num">{pct(e.metrics?.micro.f1)}</td>
                <td className="num">{pct(e.metrics?.primaryAccuracy)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data && runs.length === 0 && <p className="muted">No evaluations yet: import gold labels or review documents, then evaluate a folder.</p>}
      {cmp.error && <ErrorNotice error={cmp.error} />}
      {cmp.data && <ComparisonView c={cmp.data} />}
      {current && (
        <section className="card" aria-labelledby="eval-h" data-testid="eval-run">
          <h2 id="eval-h">
            {current.path || '.'} · {current.taxonomy.name} v{current.taxonomy.version} · {current.model}
          </h2>
          <p className="muted">
            {num(current.documents)} labelled documents ({num(current.goldSources.imported)} imported, {num(current.goldSources.reviews)} from reviews); {current.status}
            {current.error ? `: ${current.error.message}` : ''}
          </p>
          {current.metrics ? <MetricsView m={current.metrics} /> : <p className="muted">Classifying the labelled documents…</p>}
        </section>
      )}
    </div>
  );
}
