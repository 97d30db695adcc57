/**
 * The data version of this process's folder reads (issue 19): a number that moves after every
 * committed write to the tables those reads use, heard on a LISTEN connection of its own (the
 * notifications of migration 0029). The response cache keys answers by it, so an answer computed
 * under one version is never served under another.
 *
 * - `current()` is null while the LISTEN connection is not established (not yet, lost, or being
 *   re-established): nothing heard means nothing can be trusted, so callers bypass their cache.
 * - The version moves on every notification and on every (re)connection, and never goes back, so
 *   an answer computed before a loss is never served after it.
 * - A connection that dies silently is found by a heartbeat query; a lost one is retried with
 *   backoff.
 */
import pg from 'pg';

/** The channel migration 0029's triggers notify. */
export const READS_CHANNEL = 'docsight_reads';
/** The LISTEN connection's application_name (pg_stat_activity). */
export const READS_LISTENER = 'docsight-reads-listener';

export interface ReadVersion {
  /** The version now; null while changes cannot be heard (cache nothing, serve nothing cached). */
  current(): number | null;
  /** Moves the version at once (this process committed a write and will not wait to hear of it). */
  bump(): void;
  close(): Promise<void>;
}

export interface ReadVersionOptions {
  /** How to open the LISTEN connection (the pool's connection settings). */
  connection: pg.ClientConfig;
  /** How often the connection is checked (ms). */
  heartbeatMs?: number;
  /** Retry delays after a loss: from `minRetryMs`, doubling, to `maxRetryMs`. */
  minRetryMs?: number;
  maxRetryMs?: number;
  /** Told when the connection is lost or comes back. */
  onState?: (state: { listening: boolean; error?: string }) => void;
}

export function createReadVersion(opts: ReadVersionOptions): ReadVersion {
  const heartbeatMs = opts.heartbeatMs ?? 5_000;
  const minRetryMs = opts.minRetryMs ?? 250;
  const maxRetryMs = opts.maxRetryMs ?? 10_000;
  let version = 0;
  let listening = false;
  let closed = false;
  let client: pg.Client | undefined;
  let retryMs = minRetryMs;
  let timer: NodeJS.Timeout | undefined;

  /** Stop trusting the connection: bypass at once, drop it, and try again later. */
  function lost(c: pg.Client, err: unknown): void {
    if (client !== c) return;
    client = undefined;
    listening = false;
    version++;
    opts.onState?.({ listening: false, error: String(err) });
    c.removeAllListeners('notification');
    c.end().catch(() => undefined);
    schedule(retryMs);
    retryMs = Math.min(maxRetryMs, retryMs * 2);
  }

  function schedule(ms: number): void {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void connect(), ms);
    timer.unref();
  }

  async function connect(): Promise<void> {
    if (closed) return;
    const c = new pg.Client({ ...opts.connection, keepAlive: true, application_name: READS_LISTENER });
    client = c;
    c.on('error', (err) => lost(c, err));
    c.on('end', () => lost(c, 'connection ended'));
    c.on('notification', (msg) => {
      if (msg.channel === READS_CHANNEL) version++;
    });
    try {
      await c.connect();
      await c.query(`listen ${READS_CHANNEL}`);
    } catch (err) {
      lost(c, err);
      return;
    }
    if (client !== c || closed) return;
    // Whatever was committed while nobody listened: a new version, so nothing older is served.
    version++;
    listening = true;
    retryMs = minRetryMs;
    opts.onState?.({ listening: true });
    heartbeat(c);
  }

  function heartbeat(c: pg.Client): void {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (client !== c || closed) return;
      // A reply that never comes (a dead peer) counts as a loss too.
      const deadline = setTimeout(() => lost(c, 'heartbeat timed out'), heartbeatMs);
      c.query('select 1').then(
        () => {
          clearTimeout(deadline);
          heartbeat(c);
        },
        (err: unknown) => {
          clearTimeout(deadline);
          lost(c, err);
        },
      );
    }, heartbeatMs);
    timer.unref();
  }

  void connect();

  return {
    current: () => (listening ? version : null),
    bump() {
      version++;
    },
    async close() {
      closed = true;
      listening = false;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      if (c) {
        c.removeAllListeners();
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}
