/** Retention: when a document counts as stale (not modified for longer than the retention period). */

/**
 * The instant before which a document's modified date makes it stale: `years` calendar years
 * before `now` (UTC), so 29 February falls back to 1 March as Date arithmetic does.
 */
export function staleCutoff(now: Date, years: number): Date {
  const cutoff = new Date(now.getTime());
  cutoff.setUTCFullYear(cutoff.getUTCFullYear() - years);
  return cutoff;
}
