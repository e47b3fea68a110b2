/**
 * The security team's own checks, run as part of the suite: `opa test` over the
 * Rego, and that the committed policy.wasm matches the sources.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeRequiring } from '../support/requiredTool.js';

const ROOT = join(import.meta.dirname, '..', '..');
const OPA = join(ROOT, '.tools', 'bin', 'opa');
describeRequiring('policies', existsSync(OPA) ? undefined : `no OPA CLI at ${OPA} (scripts/install-opa.sh)`, () => {
  it('pass opa test', () => {
    const run = spawnSync(OPA, ['test', 'policies/', '-v'], { cwd: ROOT, encoding: 'utf8' });
    expect(run.stdout + run.stderr).toMatch(/PASS: \d+\/\d+/);
    expect(run.status, run.stdout + run.stderr).toBe(0);
  }, 120_000);

  it('have an up-to-date compiled policy.wasm', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-policies.ts', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status, run.stdout + run.stderr).toBe(0);
  }, 120_000);
});
