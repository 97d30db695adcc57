/**
 * The dashboard's one way to talk to the API: same origin, the API key (kept for the browser
 * session only) on every request, errors turned into ApiError with the server's code and message.
 * A 401 notifies listeners so the key prompt can open wherever the user is.
 */
const KEY_STORAGE = 'docsight.apiKey';

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

/** Whatever a request threw, as an ApiError (a network failure or a bug becomes code `client`). */
export const asApiError = (err: unknown): ApiError => (err instanceof ApiError ? err : new ApiError(0, 'client', String(err)));

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

export function onUnauthorized(fn: Listener): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export function getApiKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    // Storage can be disabled (privacy settings): the dashboard then works without a saved key.
    return null;
  }
}

export function setApiKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

export function authHeaders(): Record<string, string> {
  const key = getApiKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}

interface ErrorBody {
  error?: { code?: string; message?: string };
}

/** Turn a non-2xx response into an ApiError (and announce 401s). */
export async function errorFrom(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`;
  let message = `${res.status} ${res.statusText}`;
  const text = await res.text();
  try {
    const body = JSON.parse(text) as ErrorBody;
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not JSON (a proxy's error page): keep the status line as the message.
  }
  if (res.status === 401) for (const fn of unauthorizedListeners) fn();
  return new ApiError(res.status, code, message);
}

export async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'unreachable', 'The docsight server does not answer. Is it running?');
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T>(path: string, signal?: AbortSignal) => request<T>('GET', path, undefined, signal);
export const post = <T>(path: string, body: unknown) => request<T>('POST', path, body);
export const put = <T>(path: string, body: unknown) => request<T>('PUT', path, body);
export const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, body);
export const del = <T>(path: string) => request<T>('DELETE', path);

/** API path of a folder action: the folder URL-encoded as one segment ('.' is the root). */
export function folderApi(folder: string, action: 'insights' | 'documents' | 'export' | 'review' | 'changes' | 'changes-by-day'): string {
  return `/v1/folders/${encodeURIComponent(folder === '' ? '.' : folder)}/${action}`;
}

/**
 * Download a folder's export. The key travels as a header, which a plain link cannot send, so the
 * file is fetched and handed to the browser as a Blob.
 */
export async function downloadExport(folder: string, format: 'csv' | 'jsonl' | 'xlsx'): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`${folderApi(folder, 'export')}${query({ format })}`, { headers: authHeaders() });
  } catch {
    throw new ApiError(0, 'unreachable', 'The docsight server does not answer. Is it running?');
  }
  if (!res.ok) throw await errorFrom(res);
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `docsight-export.${format}`;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
