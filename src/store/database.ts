/** The Kysely database over a pg pool. Only store/ (and the Postgres queue adapter) touch pg. */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

// bigint (size) comes back as a string by default; sizes fit in a double for any real file.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
// Costs are numeric(14,6): dollars with micro-dollar precision fit a double.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number.parseFloat(v));

export type Db = Kysely<Database>;

export interface DatabaseHandle {
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function createDatabase(url: string, opts: { max?: number } = {}): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    // A backend terminated under us (failover, pg_terminate_backend) must not crash the process:
    // the pool drops the client and the next query gets a fresh connection.
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
  });
  pool.on('error', () => {
    /* errors of idle clients: the pool discards them; queries report their own errors */
  });
  // A connection terminated while checked out (between statements of a transaction) emits
  // 'error' on its client; unheard, that would crash the process. The query in flight fails on
  // its own and the pool drops the broken client.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    close: () => db.destroy(),
  };
}
