/** Reading the Prometheus text format in tests. */

/** Sum of a metric's samples whose labels include every given label; NaN when there is none. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const body = m[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) continue;
    sum += Number(m[3]);
    seen = true;
  }
  return seen ? sum : Number.NaN;
}
