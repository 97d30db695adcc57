/**
 * Bucket sources (admin): the list, a form to add an S3-compatible bucket, and removal. The
 * credentials typed here go to the server once and are never shown again (the API never answers
 * them): the list says only whether a source has stored credentials.
 */
import { type FormEvent, useEffect, useState } from 'react';
import { ErrorNotice } from '../components/FolderActions.tsx';
import { type RecordColumn, RecordsCard } from '../components/RecordsCard.tsx';
import { ApiError, asApiError, post, request } from '../lib/api.ts';
import { announceDataChanged } from '../lib/changes.ts';
import { dateTime } from '../lib/format.ts';
import { useApi } from '../lib/hooks.ts';
import { folderHref, Link } from '../lib/router.tsx';
import type { Source } from '../lib/types.ts';
import { SOURCE_NAME_PATTERN } from '../lib/vocabulary.ts';

interface Draft {
  name: string;
  bucket: string;
  prefix: string;
  endpoint: string;
  region: string;
  forcePathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  watch: string;
}

const SOURCE_COLUMNS: readonly RecordColumn<Source>[] = [
  { header: 'Name', cell: (s) => <Link to={folderHref(s.name)}>{s.name}</Link> },
  {
    header: 'Bucket',
    cell: (s) => (
      <code>
        s3://{s.bucket}/{s.prefix}
      </code>
    ),
  },
  { header: 'Endpoint', cell: (s) => s.endpoint ?? 'AWS S3' },
  { header: 'Credentials', cell: (s) => (s.credentials === 'stored' ? 'stored (encrypted)' : 'from the environment') },
  { header: 'Watch', cell: (s) => (s.watchIntervalSeconds ? `every ${s.watchIntervalSeconds} s` : 'off') },
  { header: 'Added', cell: (s) => dateTime(s.createdAt) },
];

const blank: Draft = { name: '', bucket: '', prefix: '', endpoint: '', region: '', forcePathStyle: false, accessKeyId: '', secretAccessKey: '', watch: '' };

export function SourcesPage() {
  const list = useApi<{ items: Source[] }>('/v1/sources');
  const [draft, setDraft] = useState<Draft>(blank);
  const [error, setError] = useState<ApiError | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = 'Sources · docsight';
  }, []);

  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFlash(null);
    const opt = (v: string) => (v.trim() ? v.trim() : undefined);
    try {
      const s = await post<Source>('/v1/sources', {
        name: draft.name.trim(),
        kind: 's3',
        bucket: draft.bucket.trim(),
        prefix: opt(draft.prefix),
        endpoint: opt(draft.endpoint),
        region: opt(draft.region),
        forcePathStyle: draft.forcePathStyle,
        accessKeyId: opt(draft.accessKeyId),
        secretAccessKey: opt(draft.secretAccessKey),
        watchIntervalSeconds: draft.watch.trim() ? Number(draft.watch) : undefined,
      });
      setDraft(blank);
      setFlash(`Added ${s.name}. Scan it from its folder page.`);
      list.reload();
      announceDataChanged();
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  const remove = async (name: string) => {
    if (!window.confirm(`Remove the source ${name}? Its documents are kept, marked deleted.`)) return;
    setError(null);
    setFlash(null);
    try {
      await request<Source>('DELETE', `/v1/sources/${encodeURIComponent(name)}`);
      setFlash(`Removed ${name}.`);
      list.reload();
      announceDataChanged();
    } catch (err) {
      setError(asApiError(err));
    }
  };

  const items = list.data?.items ?? [];
  return (
    <div className="page">
      <h1>Sources</h1>
      <p className="muted">
        The documents root is always a source. S3-compatible buckets (MinIO, AWS S3, R2, Ceph) added here appear as top-level folders named after the source.
      </p>
      {list.error && <ErrorNotice error={list.error} />}
      <RecordsCard
        id="sources-h"
        title="Buckets"
        testId="sources-table"
        rows={items}
        rowKey={(s) => s.name}
        // A refused or failed list is not an empty one: the notice above says why there is none.
        empty={list.error ? 'The buckets could not be listed.' : 'No buckets yet.'}
        loading={list.loading}
        columns={SOURCE_COLUMNS}
        actionsLabel="Remove"
        actions={(s) => (
          <button type="button" className="btn small" aria-label={`Remove ${s.name}`} onClick={() => void remove(s.name)}>
            Remove
          </button>
        )}
      />
      <form className="card editor" onSubmit={(e) => void add(e)} aria-labelledby="add-source-h">
        <h2 id="add-source-h" className="h-small">
          Add a bucket
        </h2>
        <label className="field">
          <span>Name (first segment of its folder paths)</span>
          <input required value={draft.name} onChange={(e) => set({ name: e.target.value })} pattern={SOURCE_NAME_PATTERN.source.slice(1, -1)} title="Lowercase letters, digits and single hyphens, 2-63" />
        </label>
        <label className="field">
          <span>Bucket</span>
          <input required value={draft.bucket} onChange={(e) => set({ bucket: e.target.value })} />
        </label>
        <label className="field">
          <span>Prefix (optional)</span>
          <input value={draft.prefix} onChange={(e) => set({ prefix: e.target.value })} placeholder="clients/" />
        </label>
        <label className="field">
          <span>Endpoint (empty: AWS S3)</span>
          <input type="url" value={draft.endpoint} onChange={(e) => set({ endpoint: e.target.value })} placeholder="http://minio:9000" />
        </label>
        <label className="field">
          <span>Region</span>
          <input value={draft.region} onChange={(e) => set({ region: e.target.value })} placeholder="us-east-1" />
        </label>
        <label className="field inline">
          <input type="checkbox" checked={draft.forcePathStyle} onChange={(e) => set({ forcePathStyle: e.target.checked })} />
          <span>Path-style URLs (MinIO)</span>
        </label>
        <label className="field">
          <span>Access key id (empty: the server's environment)</span>
          <input autoComplete="off" value={draft.accessKeyId} onChange={(e) => set({ accessKeyId: e.target.value })} />
        </label>
        <label className="field">
          <span>Secret access key</span>
          <input type="password" autoComplete="new-password" value={draft.secretAccessKey} onChange={(e) => set({ secretAccessKey: e.target.value })} />
        </label>
        <label className="field">
          <span>Watch every … seconds (optional, 10 or more)</span>
          <input type="number" min={10} max={86400} value={draft.watch} onChange={(e) => set({ watch: e.target.value })} />
        </label>
        {error && <ErrorNotice error={error} />}
        {flash && (
          <p className="notice notice-ok" role="status">
            {flash}
          </p>
        )}
        <button type="submit" className="btn primary" disabled={busy}>
          {busy ? 'Adding…' : 'Add bucket'}
        </button>
      </form>
    </div>
  );
}
