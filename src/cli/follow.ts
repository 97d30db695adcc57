/**
 * Follow a job until it ends: the server-sent events stream (read with fetch so the API key
 * goes in a header), or, if the stream cannot be opened or breaks, GET the job every second.
 */
import { ApiError, type Client } from './client.ts';
import { type Job, isFinal } from '../contract.ts';
import { createSseParser } from '../sse-parser.ts';

async function stream(client: Client, id: string, onJob: (j: Job) => void, signal: AbortSignal): Promise<boolean> {
  const res = await client.openEvents(id, signal);
  if (!res.body) return false;
  const parse = createSseParser();
  const decoder = new TextDecoder();
  let final = false;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    for (const ev of parse(decoder.decode(chunk, { stream: true }))) {
      if (ev.event === 'progress') {
        const job = JSON.parse(ev.data) as Job;
        onJob(job);
        final = isFinal(job.status);
      } else if (ev.event === 'end') final = true;
    }
  }
  return final;
}

export interface FollowOptions {
  pollMs?: number;
  /** Called once when the stream is given up for polling (for a note on stderr). */
  onFallback?: (reason: string) => void;
}

/** Resolves with the finished job, read once more in full (with its failed documents). */
export async function followJob(client: Client, id: string, onJob: (j: Job) => void, opts: FollowOptions = {}): Promise<Job> {
  const ctl = new AbortController();
  try {
    if (await stream(client, id, onJob, ctl.signal)) return await client.getJob(id);
    opts.onFallback?.('the events stream ended before the job');
  } catch (err) {
    // A wrong key or a vanished job will not get better by polling; a missing route or a proxy might.
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) throw err;
    opts.onFallback?.(err instanceof Error ? err.message : String(err));
  } finally {
    ctl.abort();
  }
  for (;;) {
    const job = await client.getJob(id);
    onJob(job);
    if (isFinal(job.status)) return job;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
  }
}
