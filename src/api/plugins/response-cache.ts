/**
 * Warm repeated reads served from memory (issue 19: the tail of folder insights, counts and
 * listings under load was their CPU per request). A route opts in with `config.responseCache`;
 * its handler then says, per answer, that this answer may be kept (`cacheAnswer(req)`): only
 * answers read from the database alone (a folder a scan recorded), never ones that looked at the
 * disk or a bucket, whose changes no version follows.
 *
 * - Key: the route, its parsed parameters and query (keys sorted), and the caller's access (role
 *   and folder scopes): an answer computed for one scope is never served to another.
 * - Validity: the data version (store/read-version.ts) captured before the handler runs, so an
 *   answer racing a commit is kept under the version from before the commit and is never served
 *   after it has been heard of. While the version is unknown (the LISTEN connection is down)
 *   nothing is kept or served. A process's own writes (any request but GET/HEAD/OPTIONS) move the
 *   version before they answer, so their callers read them at once; writes of other processes are seen
 *   once their notification arrives (after their commit, usually within a millisecond).
 * - Age: at most `maxAgeMs`, since some answers move with the clock alone (stale documents are
 *   those modified before a cutoff taken from now); past it, the first request computes the answer
 *   again and those that come meanwhile still get the old one (no write was heard since), so it is
 *   served at most that computation's time longer.
 * - Memory: at most `maxBytes` of answers (least recently used go first); an answer over an
 *   eighth of that is not kept.
 * - An ETag on every cached-route answer kept; If-None-Match with it gets 304.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The data version reads are keyed by (store/read-version.ts). */
export interface DataVersion {
  /** null: changes cannot be heard now, cache nothing. */
  current(): number | null;
  /** This process wrote: move the version without waiting to hear of it. */
  bump(): void;
}

export interface ResponseCacheOptions {
  version: DataVersion;
  maxBytes: number;
  maxAgeMs: number;
  /** The clock (tests set it). */
  now?: () => number;
}

interface Entry {
  version: number;
  at: number;
  body: string;
  type: string;
  etag: string;
  bytes: number;
}

/** What a request on a cached route remembers between its lookup and its answer. */
interface Ticket {
  key: string;
  version: number;
  /** The handler marked the answer as one that may be kept. */
  keep: boolean;
  /** Other requests for this answer wait for this one. */
  leads: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    responseCacheTicket: Ticket | null;
  }
  interface FastifyContextConfig {
    /**
     * Answers of this GET route (or of the requests of it this says yes to) may be served from the
     * response cache (plugins/response-cache.ts).
     */
    responseCache?: boolean | ((req: FastifyRequest) => boolean);
  }
}

/** This answer comes from the database alone: it may be kept under the version taken before it was read. */
export function cacheAnswer(req: FastifyRequest): void {
  if (req.responseCacheTicket) req.responseCacheTicket.keep = true;
}

const sortedJson = (value: unknown): string => {
  if (!value || typeof value !== 'object') return JSON.stringify(value ?? null);
  const o = value as Record<string, unknown>;
  return JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k]]));
};

function keyOf(req: FastifyRequest): string {
  const p = req.principal;
  const access = `${p.role}:${[...p.scopes].sort().join('\u0000')}`;
  return `${req.routeOptions.url ?? ''}\n${sortedJson(req.params)}\n${sortedJson(req.query)}\n${access}`;
}

const WRITES_NOTHING = new Set(['GET', 'HEAD', 'OPTIONS']);

export function registerResponseCache(app: FastifyInstance, opts: ResponseCacheOptions): void {
  const now = opts.now ?? Date.now;
  const entries = new Map<string, Entry>();
  let bytes = 0;

  const drop = (key: string, e: Entry) => {
    entries.delete(key);
    bytes -= e.bytes;
  };

  function keep(key: string, e: Entry): void {
    if (e.bytes > opts.maxBytes / 8) return;
    const old = entries.get(key);
    if (old) drop(key, old);
    entries.set(key, e);
    bytes += e.bytes;
    // Map order is insertion order, and a hit re-inserts: the first key is the least recently used.
    for (const [k, x] of entries) {
      if (bytes <= opts.maxBytes) break;
      drop(k, x);
    }
  }

  const notModified = (req: FastifyRequest, etag: string) => req.headers['if-none-match'] === etag;

  app.decorateRequest('responseCacheTicket', null);

  /**
   * The entry of `key` under `version` (one of another version goes), and whether it is within its
   * age; one past it is kept, for the requests that come while it is computed again.
   */
  function lookup(key: string, version: number): { e: Entry; young: boolean } | undefined {
    const e = entries.get(key);
    if (!e) return undefined;
    if (e.version !== version) {
      drop(key, e);
      return undefined;
    }
    entries.delete(key);
    entries.set(key, e);
    return { e, young: now() - e.at <= opts.maxAgeMs };
  }

  function serve(req: FastifyRequest, reply: FastifyReply, e: Entry): FastifyReply {
    void reply.header('etag', e.etag);
    if (notModified(req, e.etag)) return reply.code(304).send();
    return reply.header('content-type', e.type).send(e.body);
  }

  /**
   * Answers being computed, by key: requests for the same answer under the same version wait for
   * the first instead of computing it again (when an answer ages out under load, the requests for
   * it would otherwise all go to the database at once).
   */
  const computing = new Map<string, { version: number; done: Promise<void>; end: () => void }>();

  function finish(ticket: Ticket | null): void {
    if (!ticket?.leads) return;
    ticket.leads = false;
    const flight = computing.get(ticket.key);
    if (flight?.version === ticket.version) {
      computing.delete(ticket.key);
      flight.end();
    }
  }

  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    const cached = req.routeOptions.config?.responseCache;
    if (req.method !== 'GET' || !cached || (cached !== true && !cached(req))) return;
    const version = opts.version.current();
    if (version === null) return;
    const key = keyOf(req);
    const hit = lookup(key, version);
    if (hit?.young) return serve(req, reply, hit.e);
    const flight = computing.get(key);
    if (flight?.version === version) {
      // Past its age and being computed again: no write since, so it is served until the new one is kept.
      if (hit) return serve(req, reply, hit.e);
      await flight.done;
      const current = opts.version.current();
      const shared = current === version ? lookup(key, version) : undefined;
      if (shared?.young) return serve(req, reply, shared.e);
      // Not kept (an error, not marked, the version moved): compute it here.
      if (current !== null) req.responseCacheTicket = { key, version: current, keep: false, leads: false };
      return;
    }
    let end = () => {};
    const done = new Promise<void>((resolve) => {
      end = resolve;
    });
    if (!flight) computing.set(key, { version, done, end });
    req.responseCacheTicket = { key, version, keep: false, leads: !flight };
  });

  app.addHook('onSend', async (req, reply, payload) => {
    // Before the answer leaves, so the caller's next read cannot come first.
    if (!WRITES_NOTHING.has(req.method)) opts.version.bump();
    const ticket = req.responseCacheTicket;
    if (!ticket) return payload;
    try {
      // Kept only while its version is still the current one: one that moved would never serve it.
      if (!ticket.keep || reply.statusCode !== 200 || typeof payload !== 'string' || opts.version.current() !== ticket.version) return payload;
      const etag = `"${createHash('sha1').update(payload).digest('base64url')}"`;
      void reply.header('etag', etag);
      keep(ticket.key, {
        version: ticket.version,
        at: now(),
        body: payload,
        type: String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8'),
        etag,
        // UTF-16 in memory, and the key.
        bytes: 2 * (payload.length + ticket.key.length) + 200,
      });
      if (notModified(req, etag)) {
        void reply.code(304);
        return '';
      }
      return payload;
    } finally {
      finish(ticket);
    }
  });
  // An answer that never reached onSend (the client went away first) still lets the waiting go.
  app.addHook('onResponse', async (req) => finish(req.responseCacheTicket));
  app.addHook('onRequestAbort', async (req) => finish(req.responseCacheTicket));
}
