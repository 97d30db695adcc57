/**
 * Where the limiter keeps its arrival times: one process (memory-store.ts) or every process that
 * shares a Redis (redis-store.ts). A store applies the GCRA rules of gcra.ts atomically per call.
 */
import type { Admission, Bucket } from './gcra.ts';

/** `cost` units of `bucket` under `key`. */
export interface Charge {
  key: string;
  bucket: Bucket;
  cost: number;
}

export interface GcraStore {
  /** Books every charge at the earliest instant all of them fit; resolves to the ms to wait for it. */
  reserve(charges: readonly Charge[]): Promise<number>;
  /** Gives back charges `reserve` booked (a wait that was cancelled). */
  release(charges: readonly Charge[]): Promise<void>;
  /** Takes one charge if it fits now; a refusal books nothing. */
  admit(charge: Charge): Promise<Admission>;
}

/**
 * The process's store when it is shared through Redis: admissions (the API's limits) fall back to
 * this process's own count while the shared store is unreachable, so an outage does not take the
 * API down with it; bookings (the LLM limits) report the outage, so their work is retried later
 * instead of overrunning a limit every worker shares.
 */
export function admitLocallyDuringOutage(shared: GcraStore, local: GcraStore): GcraStore {
  return {
    reserve: (charges) => shared.reserve(charges),
    release: (charges) => shared.release(charges),
    admit: (charge) => shared.admit(charge).catch(() => local.admit(charge)),
  };
}
