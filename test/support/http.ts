/**
 * HTTP helpers for API tests. A target is either a Fastify instance, driven in process with
 * `inject` (no socket: the default for tests that need no second process), or the base URL of a
 * listening server, reached with fetch (child processes, server-sent event streams, listeners).
 */
import assert from 'node:assert/strict';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { waitFor } from './wait.ts';

export type ApiTarget = string | FastifyInstance;

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // not JSON (an HTML page, Prometheus text): keep the text
  }
}

async function injected(app: FastifyInstance, method: string, path: string, body: unknown, headers: Record<string, string>) {
  const res = await app.inject({
    method: method as HTTPMethods,
    url: path,
    headers,
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const out = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.append(name, String(v));
  }
  return { status: res.statusCode, text: res.body, headers: out };
}

async function fetched(base: string, method: string, path: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** The Fastify instance of a runtime that serves the API, for `inject`. */
export function appOf(runtime: { app?: FastifyInstance }): FastifyInstance {
  assert.ok(runtime.app, 'the runtime serves no API');
  return runtime.app;
}

/**
 * One request; a JSON body is sent as JSON (a string body as it is, e.g. malformed JSON). The
 * response body is parsed as JSON when it is JSON and kept as text otherwise.
 */
export async function api<T = Record<string, unknown>>(
  target: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const sent = body === undefined ? headers : { 'content-type': 'application/json', ...headers };
  const res = typeof target === 'string' ? await fetched(target, method, path, body, sent) : await injected(target, method, path, body, sent);
  return { status: res.status, body: parseBody(res.text) as T, headers: res.headers };
}

export interface JobBody {
  id: string;
  status: string;
  progress: { total: number; done: number; failed: number; skipped: number; percent: number };
  error: { code: string; message: string } | null;
  failures?: { path: string; code: string; message: string }[];
}

/** Read a job (it must exist). */
export async function getJob(target: ApiTarget, id: string): Promise<JobBody> {
  const r = await api<JobBody>(target, 'GET', `/v1/jobs/${id}`);
  assert.equal(r.status, 200, `GET job: ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Poll a job until it is no longer queued or running. */
export async function waitForJob(target: ApiTarget, id: string, timeoutMs = 60_000): Promise<JobBody> {
  return waitFor(() => getJob(target, id), {
    what: `job ${id} to end`,
    timeoutMs,
    intervalMs: 100,
    until: (job) => job.status !== 'queued' && job.status !== 'running',
  });
}

export const enc = (folder: string) => encodeURIComponent(folder);
