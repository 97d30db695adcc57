/**
 * Follow a job live. Server-sent events are read with fetch rather than EventSource, because
 * EventSource cannot send the Authorization header and the key must never travel in a URL.
 * If the stream cannot be opened or breaks before the job ends, poll GET /v1/jobs/{id} every
 * second instead, so progress keeps moving on servers or proxies without the stream.
 */
import { ApiError, authHeaders, errorFrom, get } from './api.ts';
import { createSseParser } from '../../../src/sse-parser.ts';
import { type Job, isFinal } from './types.ts';

async function streamJob(id: string, onJob: (job: Job) => void, signal: AbortSignal): Promise<Job | null> {
  const res = await fetch(`/v1/jobs/${encodeURIComponent(id)}/events`, {
    headers: { accept: 'text/event-stream', ...authHeaders() },
    signal,
  });
  if (!res.ok) throw await errorFrom(res);
  if (!res.body) return null;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const parse = createSseParser();
  let last: Job | null = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return last && isFinal(last.status) ? last : null;
    for (const ev of parse(value)) {
      if (ev.event === 'progress') {
        last = JSON.parse(ev.data) as Job;
        onJob(last);
      }
    }
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/** Calls onJob with every update until the job ends (or signal aborts); resolves with the last job seen. */
export async function followJob(id: string, onJob: (job: Job) => void, signal: AbortSignal): Promise<Job | null> {
  try {
    const final = await streamJob(id, onJob, signal);
    if (final) {
      // The stream's last event can miss the failures list; read the full job once.
      const full = await get<Job>(`/v1/jobs/${encodeURIComponent(id)}`, signal);
      onJob(full);
      return full;
    }
  } catch (err) {
    if (signal.aborted) return null;
    // 401/404 will not get better by polling.
    if (err instanceof ApiError && (err.status === 401 || err.status === 403 || err.status === 404)) throw err;
    console.warn('job events stream unavailable, polling instead', err);
  }
  let job: Job | null = null;
  while (!signal.aborted) {
    job = await get<Job>(`/v1/jobs/${encodeURIComponent(id)}`, signal);
    onJob(job);
    if (isFinal(job.status)) return job;
    await sleep(1000, signal);
  }
  return job;
}
