/**
 * Webhooks (admin): the subscriptions with their state, a form to add one (its signing secret is
 * shown once, right after), removal, and the recent deliveries of the one selected.
 */
import { type FormEvent, useEffect, useState } from 'react';
import { ErrorNotice } from '../components/FolderActions.tsx';
import { type RecordColumn, RecordsCard } from '../components/RecordsCard.tsx';
import { ApiError, asApiError, del, post } from '../lib/api.ts';
import { dateTime, folderLabel } from '../lib/format.ts';
import { useApi } from '../lib/hooks.ts';
import type { CreatedWebhook, Webhook, WebhookAttempt, WebhookEvent } from '../lib/types.ts';
import { WEBHOOK_EVENTS } from '../lib/vocabulary.ts';

const WEBHOOK_COLUMNS: readonly RecordColumn<Webhook>[] = [
  { header: 'URL', cell: (w) => <code>{w.url}</code> },
  { header: 'Events', cell: (w) => w.events.join(', ') },
  { header: 'Folder', cell: (w) => (w.folder === null ? 'Every folder' : folderLabel(w.folder)) },
  {
    header: 'State',
    cell: (w) => (
      <>
        {w.enabled ? (
          <span className="badge tone-ok">enabled</span>
        ) : (
          <span className="badge tone-bad" title={w.disabledReason ?? undefined}>
            disabled
          </span>
        )}
        {w.consecutiveFailures > 0 && <span className="muted small"> {w.consecutiveFailures} failed in a row</span>}
      </>
    ),
  },
];

export function WebhooksPage() {
  const list = useApi<{ items: Webhook[] }>('/v1/webhooks');
  const [selected, setSelected] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedWebhook | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    document.title = 'Webhooks · docsight';
  }, []);
  const items = list.data?.items ?? [];

  const remove = async (w: Webhook) => {
    if (!window.confirm(`Remove the webhook to ${w.url}? Its delivery log goes with it.`)) return;
    setError(null);
    try {
      await del<Webhook>(`/v1/webhooks/${w.id}`);
      if (selected === w.id) setSelected(null);
      if (created?.id === w.id) setCreated(null);
      list.reload();
    } catch (err) {
      setError(asApiError(err));
    }
  };

  return (
    <div className="page">
      <h1>Webhooks</h1>
      <p className="muted">
        docsight calls these URLs when jobs end, scans find changed documents or classifications leave documents to review. Every call is signed
        with the webhook&apos;s secret (see docs/webhooks.md).
      </p>
      {list.error && <ErrorNotice error={list.error} />}
      {error && <ErrorNotice error={error} />}
      {created && (
        <div className="notice notice-ok" role="status" data-testid="webhook-secret">
          <strong>Webhook added.</strong> Its signing secret is shown only now: <code>{created.secret}</code>
        </div>
      )}
      <RecordsCard
        id="webhooks-h"
        title="Subscriptions"
        testId="webhooks-table"
        rows={items}
        rowKey={(w) => w.id}
        empty={list.error ? 'The webhooks could not be listed.' : 'No webhooks yet.'}
        loading={list.loading}
        columns={WEBHOOK_COLUMNS}
        current={(w) => w.id === selected}
        actionsLabel="Actions"
        actions={(w) => (
          <>
            <button type="button" className="btn small" onClick={() => setSelected(w.id)}>
              Deliveries
            </button>
            <button type="button" className="btn small" aria-label={`Remove webhook to ${w.url}`} onClick={() => void remove(w)}>
              Remove
            </button>
          </>
        )}
      />
      <AddWebhook
        onCreated={(w) => {
          setCreated(w);
          setSelected(w.id);
          list.reload();
        }}
      />
      {selected && <Deliveries id={selected} webhook={items.find((w) => w.id === selected) ?? null} />}
    </div>
  );
}

function AddWebhook({ onCreated }: { onCreated(w: CreatedWebhook): void }) {
  const [url, setUrl] = useState('');
  const [folder, setFolder] = useState('');
  const [events, setEvents] = useState<WebhookEvent[]>(['job.completed', 'job.failed']);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const w = await post<CreatedWebhook>('/v1/webhooks', { url: url.trim(), events, ...(folder.trim() ? { folder: folder.trim() } : {}) });
      setUrl('');
      setFolder('');
      onCreated(w);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card editor" onSubmit={(e) => void submit(e)} aria-labelledby="add-webhook-h">
      <h2 id="add-webhook-h" className="h-small">
        Add a webhook
      </h2>
      <label className="field">
        <span>URL (http or https)</span>
        <input required type="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://hooks.example.com/docsight" />
      </label>
      <fieldset className="labels">
        <legend>Events</legend>
        {WEBHOOK_EVENTS.map((ev) => (
          <label key={ev} className="field inline">
            <input
              type="checkbox"
              checked={events.includes(ev)}
              onChange={(e) => setEvents((list) => (e.target.checked ? [...list, ev] : list.filter((x) => x !== ev)))}
            />
            <span>{ev}</span>
          </label>
        ))}
      </fieldset>
      <label className="field">
        <span>Folder (optional: only events about it and what is inside it)</span>
        <input value={folder} onChange={(e) => setFolder(e.target.value)} placeholder="Company A" />
      </label>
      {error && <ErrorNotice error={error} />}
      <div className="row end">
        <button type="submit" className="btn primary" disabled={busy || events.length === 0}>
          Add webhook
        </button>
      </div>
    </form>
  );
}

function Deliveries({ id, webhook }: { id: string; webhook: Webhook | null }) {
  const log = useApi<{ items: WebhookAttempt[]; nextCursor: string | null }>(`/v1/webhooks/${id}/deliveries?limit=50`);
  return (
    <section className="card" aria-labelledby="deliveries-h">
      <h2 id="deliveries-h" className="h-small">
        Recent deliveries{webhook ? ` to ${webhook.url}` : ''}{' '}
        <button type="button" className="btn small" onClick={log.reload}>
          Refresh
        </button>
      </h2>
      {webhook && !webhook.enabled && <p className="notice notice-warn">Disabled: {webhook.disabledReason ?? 'no reason given'}.</p>}
      {log.error && <ErrorNotice error={log.error} />}
      {log.data && log.data.items.length === 0 && <p className="muted">Nothing delivered yet.</p>}
      {log.data && log.data.items.length > 0 && (
        <table className="docs" data-testid="deliveries-table">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">Attempt</th>
              <th scope="col">Status</th>
              <th scope="col">Took</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {log.data.items.map((a) => (
              <tr key={a.id}>
                <td>{dateTime(a.at)}</td>
                <td>{a.event}</td>
                <td>{a.attempt}</td>
                <td>
                  <span className={`badge ${a.error === null ? 'tone-ok' : 'tone-bad'}`}>{a.statusCode ?? 'no answer'}</span>
                  {a.deliveryStatus !== 'delivered' && <span className="muted small"> {a.deliveryStatus}</span>}
                </td>
                <td>{a.durationMs} ms</td>
                <td className="small">{a.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
