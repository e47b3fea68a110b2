/**
 * vitest globalSetup: compiles proxy/ and collector/ into dist/ once, before any
 * suite runs, when dist/ is missing or older than the sources. The tests that
 * spawn `bin/gatehouse.mjs` then run the compiled build, the thing `npm start`
 * ships, rather than the tsx fallback. (A source edited while the suites run
 * makes the bin fall back to tsx for the later spawns: slower, never stale.)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url));
  const run = spawnSync(process.execPath, [script, '--if-stale'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) throw new Error(`node scripts/build.mjs --if-stale failed (exit ${run.status ?? run.signal})`);
}
