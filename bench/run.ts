/**
 * `npm run bench`: every benchmark in turn, each in its own process (so one's memory does not
 * inflate the next one's peak). BENCH_ONLY=pipeline,extract runs a subset.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ALL = ['pipeline', 'extract', 'queue', 'classify', 'search', 'soak', 'ocr', 'insights', 'tail'];
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
const selected = only?.length ? ALL.filter((b) => only.includes(b)) : ALL;
let failed = 0;
for (const name of selected) {
  process.stdout.write(`\n=== bench/${name}.ts ===\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, `${name}.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`bench/${name}.ts exited with ${r.status ?? r.signal}\n`);
  }
}
process.exit(failed > 0 ? 1 : 0);
