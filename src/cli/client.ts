/**
 * The CLI's HTTP client for a docsight server (the local embedded one or a remote one): JSON in
 * and out, the API key as a Bearer header, and failures sorted into what the exit code says:
 * the server could not be reached, or it answered with an error.
 */
import type { Job } from '../contract.ts';

/** No connection to the server (refused, DNS, timeout): exit code 3. */
export class ServerUnreachable extends Error {
  constructor(
    readonly server: string,
    cause: unknown,
  ) {
    super(`cannot reach the docsight server at ${server}: ${describeCause(cause)}`);
    this.name = 'ServerUnreachable';
  }
}

/** The server answered with an error body `{error: {code, message}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ClientOptions {
  server: string;
  key?: string;
  /** Per-request timeout (the events stream has none). */
  timeoutMs?: number;
}

export interface Client {
  server: string;
  /** A JSON body, or with `contentType` a text body sent as it is (JSON Lines). */
  request<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: T }>;
  /** GET the events stream; resolves with the response (caller reads the body) or throws. */
  openEvents(jobId: string, signal: AbortSignal): Promise<Response>;
  getJob(id: string): Promise<Job>;
  /** GET a body to stream (an export); resolves with the response once its status is OK, or throws. */
  download(path: string): Promise<Response>;
}

function describeCause(cause: unknown): string {
  // fetch hides the reason one level down: ECONNREFUSED, ENOTFOUND, "bad port"...
  const c = (cause as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (c?.code) return c.code;
  if (c?.message) return c.message;
  if (cause instanceof Error && cause.name === 'TimeoutError') return 'no answer in time';
  return cause instanceof Error ? cause.message : String(cause);
}

export function createClient(opts: ClientOptions): Client {
  const server = opts.server.replace(/\/+$/, '');
  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({
    ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}),
    ...extra,
  });

  async function send(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${server}${path}`, init);
    } catch (err) {
      if (init.signal?.aborted && (init.signal.reason as Error | undefined)?.name !== 'TimeoutError') throw err;
      throw new ServerUnreachable(server, err);
    }
  }

  async function fail(res: Response): Promise<never> {
    const text = await res.text();
    let code = `http_${res.status}`;
    let message = `${res.status} ${res.statusText}`.trim();
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      // Not JSON (a proxy's page, or not a docsight server): keep the status line.
      if (text && !text.trimStart().startsWith('<')) message = `${message}: ${text.slice(0, 200)}`;
    }
    throw new ApiError(res.status, code, message);
  }

  const client: Client = {
    server,
    async request<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, contentType?: string) {
      const raw = contentType !== undefined && typeof body === 'string';
      const res = await send(path, {
        method,
        headers: headers({ accept: 'application/json', ...(body === undefined ? {} : { 'content-type': raw ? contentType : 'application/json' }) }),
        body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      });
      if (!res.ok) return fail(res);
      if (res.status === 204) return { status: res.status, body: undefined as T };
      return { status: res.status, body: (await res.json()) as T };
    },
    async openEvents(jobId, signal) {
      const res = await send(`/v1/jobs/${encodeURIComponent(jobId)}/events`, {
        headers: headers({ accept: 'text/event-stream' }),
        signal,
      });
      if (!res.ok) return fail(res);
      return res;
    },
    async download(path) {
      const res = await send(path, { headers: headers() });
      if (!res.ok) return fail(res);
      return res;
    },
    async getJob(id) {
      return (await client.request<Job>('GET', `/v1/jobs/${encodeURIComponent(id)}`)).body;
    },
  };
  return client;
}

/** API path of a folder action; the folder is one URL-encoded segment ('.' is the root). */
export const folderPath = (folder: string, action: 'insights' | 'documents' | 'export' | 'duplicates') =>
  `/v1/folders/${encodeURIComponent(folder === '' ? '.' : folder)}/${action}`;
