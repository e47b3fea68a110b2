/**
 * A suite that needs a tool from outside npm (redis-server, the OPA CLI,
 * promtool). When the tool is missing: under CI (where .ci/run installs it) the
 * suite fails loudly; locally it is skipped with a warning that says so. Never a
 * silent skip.
 */
import { describe } from 'vitest';

/** `missing` is why the tool is unavailable, or undefined when it is there. */
export function describeRequiring(name: string, missing: string | undefined, suite: () => void): void {
  if (missing === undefined) {
    describe(name, suite);
    return;
  }
  if (process.env.CI) throw new Error(`${name}: ${missing}; CI must run this suite`);
  console.warn(`\n*** SKIPPED "${name}": ${missing}. These tests did NOT run. ***\n`);
  describe.skip(name, suite);
}
