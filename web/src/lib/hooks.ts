/** Data hooks: load an API resource, follow a job live, learn which optional routes exist. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, asApiError, get } from './api.ts';
import { followJob } from './sse.ts';
import { useDataTick } from './changes.ts';
import type { Job, Me } from './types.ts';

export interface Resource<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload(): void;
}

/** GET `path` (null: nothing to load) and reload whenever it or `refresh` changes. */
export function useApi<T>(path: string | null, refresh: unknown = 0): Resource<T> {
  // Data is remembered with the path it came from: a reload of the same path keeps showing the
  // old numbers until the new ones arrive, another path never shows the previous one's.
  const [state, setState] = useState<{ path: string | null; data: T | null; error: ApiError | null }>({ path: null, data: null, error: null });
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    const ctl = new AbortController();
    setLoading(true);
    get<T>(path, ctl.signal).then(
      (data) => {
        setState({ path, data, error: null });
        setLoading(false);
      },
      (err: unknown) => {
        if (ctl.signal.aborted) return;
        setState({ path, data: null, error: asApiError(err) });
        setLoading(false);
      },
    );
    return () => ctl.abort();
  }, [path, tick, refresh]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const mine = state.path === path;
  return { data: mine ? state.data : null, error: mine ? state.error : null, loading: loading || !mine, reload };
}

/** The job, live: events stream with polling fallback, until it ends. */
export function useJob(id: string | null, initial: Job | null = null, onEnd?: (job: Job) => void): { job: Job | null; error: ApiError | null } {
  const [job, setJob] = useState<Job | null>(initial);
  const [error, setError] = useState<ApiError | null>(null);
  // The parent's callback may change every render; following restarts only for another job.
  const onEndRef = useRef(onEnd);
  onEndRef.current = onEnd;
  useEffect(() => {
    if (!id) return;
    const ctl = new AbortController();
    followJob(id, setJob, ctl.signal).then(
      (final) => {
        if (final && !ctl.signal.aborted) onEndRef.current?.(final);
      },
      (err: unknown) => {
        if (!ctl.signal.aborted) setError(asApiError(err));
      },
    );
    return () => ctl.abort();
  }, [id]);
  return { job, error };
}

export interface OptionalRoutes {
  cancel: boolean;
  retry: boolean;
  search: boolean;
}

let optionalRoutes: Promise<OptionalRoutes> | null = null;

/** Cancel, retry and search are shown only once the server's OpenAPI document has their routes. */
export function useOptionalRoutes(): OptionalRoutes {
  const [routes, setRoutes] = useState<OptionalRoutes>({ cancel: false, retry: false, search: false });
  useEffect(() => {
    optionalRoutes ??= get<{ paths?: Record<string, unknown> }>('/openapi.json').then((spec) => {
      const paths = spec.paths ?? {};
      return { cancel: '/v1/jobs/{id}/cancel' in paths, retry: '/v1/jobs/{id}/retry' in paths, search: '/v1/search' in paths };
    });
    let live = true;
    optionalRoutes.then(
      (r) => {
        if (live) setRoutes(r);
      },
      (err: unknown) => {
        optionalRoutes = null;
        console.warn('could not read /openapi.json; hiding cancel and retry', err);
      },
    );
    return () => {
      live = false;
    };
  }, []);
  return routes;
}

/**
 * Who the dashboard is acting as (GET /v1/me), reloaded when the key changes. `roots` are the
 * folders to start from: the documents root for an unscoped key, else the key's scopes (a scoped
 * key gets 404 for the root, so the tree and the start page begin at what it may see).
 */
export function useMe(): { me: Me | null; roots: string[] | null } {
  const tick = useDataTick();
  const { data, error } = useApi<Me>('/v1/me', tick);
  if (!data) return { me: null, roots: error ? [''] : null };
  const scopes = data.scopes.filter((s) => s !== '' && s !== '.');
  return { me: data, roots: scopes.length > 0 && scopes.length === data.scopes.length ? scopes : [''] };
}
