/** Small HTTP helpers for tests that talk to a real listening server. */
import assert from 'node:assert/strict';

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export async function api<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (HTML docs page): keep the text
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

export interface JobBody {
  id: string;
  status: string;
  progress: { total: number; done: number; failed: number; skipped: number; percent: number };
  error: { code: string; message: string } | null;
  failures?: { path: string; code: string; message: string }[];
}

/** Poll a job until it is no longer queued or running (reads state; never waits on events). */
export async function waitForJob(base: string, id: string, timeoutMs = 60_000): Promise<JobBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await api<JobBody>(base, 'GET', `/v1/jobs/${id}`);
    assert.equal(r.status, 200, `GET job: ${JSON.stringify(r.body)}`);
    if (r.body.status !== 'queued' && r.body.status !== 'running') return r.body;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${r.body.status} after ${timeoutMs} ms: ${JSON.stringify(r.body.progress)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

export const enc = (folder: string) => encodeURIComponent(folder);
