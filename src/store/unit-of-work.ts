/**
 * Transactions for services: a service that must write several things atomically asks for a unit
 * of work and passes its `StoreTx` to the repository methods that take one. Services never see
 * Kysely; handlers and routes never open transactions.
 */
import type { Transaction } from 'kysely';
import type { Db } from './database.ts';
import type { Database } from './schema.ts';

/** An open transaction, opaque outside store/. */
export type StoreTx = Transaction<Database>;

export interface UnitOfWork {
  /** Run `work` in one transaction: committed when it resolves, rolled back when it throws. */
  run<T>(work: (tx: StoreTx) => Promise<T>): Promise<T>;
}

export function createUnitOfWork(db: Db): UnitOfWork {
  return { run: (work) => db.transaction().execute(work) };
}
