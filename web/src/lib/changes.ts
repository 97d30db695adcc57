/**
 * "The data changed" (a scan or classification finished, a taxonomy was saved): every view that
 * shows counts reloads. One tick shared by the page, so numbers never disagree across panels.
 */
import { useSyncExternalStore } from 'react';

let tick = 0;
const listeners = new Set<() => void>();

export function announceDataChanged(): void {
  tick++;
  for (const fn of listeners) fn();
}

export function useDataTick(): number {
  return useSyncExternalStore(
    (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    () => tick,
  );
}
