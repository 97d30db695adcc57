/**
 * One process of a deployment does a thing (runs the watchers): whoever holds a PostgreSQL
 * session-level advisory lock on a connection of its own. The lock goes with the connection, so a
 * process that dies or loses its database hands it over by itself.
 */
import { sql } from 'kysely';
import type { Db } from './database.ts';

export interface Leadership {
  /** Still held? (Checked on the lock's own connection: false once that connection is gone.) */
  alive(): Promise<boolean>;
  release(): Promise<void>;
}

/** Try to take lock `key` (a name); undefined when another session holds it. */
export async function tryLeadership(db: Db, key: string): Promise<Leadership | undefined> {
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  let held: (value: { alive: () => Promise<boolean> } | undefined) => void;
  const outcome = new Promise<{ alive: () => Promise<boolean> } | undefined>((r) => {
    held = r;
  });
  // The connection is kept out of the pool for as long as the lock is held.
  const done = db
    .connection()
    .execute(async (conn) => {
      const r = await sql<{ ok: boolean }>`select pg_try_advisory_lock(hashtextextended(${key}, 0)) as ok`.execute(conn);
      if (!r.rows[0]?.ok) {
        held(undefined);
        return;
      }
      held({
        alive: async () => {
          try {
            const still = await sql<{ n: string }>`
              select count(*) as n from pg_locks
              where locktype = 'advisory' and pid = pg_backend_pid() and granted`.execute(conn);
            return Number(still.rows[0]?.n ?? 0) > 0;
          } catch {
            return false;
          }
        },
      });
      await released;
      await sql`select pg_advisory_unlock(hashtextextended(${key}, 0))`.execute(conn).catch(() => undefined);
    })
    .catch(() => held(undefined));
  const got = await outcome;
  if (!got) {
    await done;
    return undefined;
  }
  return {
    alive: got.alive,
    async release() {
      release();
      await done;
    },
  };
}
