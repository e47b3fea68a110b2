/**
 * The gate (docs/evals.md, "The gate"):
 *
 * - a case passes when the fraction of its runs that pass every assertion is at
 *   least `caseThreshold` (so with --repeat 3 and 0.66, one bad run of a flaky
 *   case does not fail it);
 * - without a baseline, the gate passes when the share of passing cases is at
 *   least `threshold`;
 * - with a baseline, the gate fails only on a significant drop. A case regressed
 *   when it passes on the baseline and fails on the candidate. The drop is
 *   significant when a regressed case passed every one of its baseline runs (a
 *   stable case that now fails: not flakiness), or when at least one case
 *   regressed and a one-sided two-proportion z-test over all runs (baseline vs
 *   candidate pass rates, pooled) gives z ≥ 1.645 (95%). Cases that fail on both
 *   sides are not the candidate's regressions. `threshold`, when given, applies
 *   as well.
 */
import type { CaseResult } from './runner.js';

export interface GateOptions {
  caseThreshold: number;
  threshold: number;
  /** With a baseline, the threshold applies only when it was given. */
  thresholdGiven?: boolean;
}

export interface SideSummary {
  version: number;
  cases: number;
  passedCases: number;
  runs: number;
  passedRuns: number;
}

export interface GateResult {
  pass: boolean;
  reason: string;
  candidate: SideSummary;
  baseline?: SideSummary;
  /** Cases that pass on the baseline and fail on the candidate. */
  regressed: string[];
  /** Cases that fail on the candidate. */
  failed: string[];
  z?: number;
}

export const Z_95_ONE_SIDED = 1.645;

export function casePasses(result: CaseResult, options: GateOptions): boolean {
  return result.passRate + 1e-9 >= options.caseThreshold;
}

function side(version: number, results: readonly CaseResult[], options: GateOptions): SideSummary {
  return {
    version, cases: results.length, passedCases: results.filter((r) => casePasses(r, options)).length,
    runs: results.reduce((n, r) => n + r.runs.length, 0), passedRuns: results.reduce((n, r) => n + r.runs.filter((x) => x.pass).length, 0),
  };
}

/** One-sided two-proportion z (baseline above candidate is positive). */
export function dropZ(candidate: SideSummary, baseline: SideSummary): number {
  const p1 = baseline.passedRuns / baseline.runs;
  const p2 = candidate.passedRuns / candidate.runs;
  const pooled = (baseline.passedRuns + candidate.passedRuns) / (baseline.runs + candidate.runs);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / baseline.runs + 1 / candidate.runs));
  if (se === 0) return 0;
  return (p1 - p2) / se;
}

export function decide(candidateVersion: number, candidate: readonly CaseResult[], options: GateOptions, baselineVersion?: number, baseline?: readonly CaseResult[]): GateResult {
  const c = side(candidateVersion, candidate, options);
  const failed = candidate.filter((r) => !casePasses(r, options)).map((r) => r.id);
  if (baseline === undefined || baselineVersion === undefined) {
    const rate = c.passedCases / Math.max(1, c.cases);
    const pass = rate + 1e-9 >= options.threshold;
    return { pass, reason: `${c.passedCases}/${c.cases} cases pass (${(rate * 100).toFixed(1)}%, threshold ${(options.threshold * 100).toFixed(1)}%)`, candidate: c, regressed: [], failed };
  }
  const b = side(baselineVersion, baseline, options);
  const baselineById = new Map(baseline.map((r) => [r.id, r]));
  const regressed = failed.filter((id) => { const r = baselineById.get(id); return r !== undefined && casePasses(r, options); });
  const stable = regressed.filter((id) => baselineById.get(id)!.passRate === 1);
  const z = dropZ(c, b);
  const significant = stable.length > 0 || (regressed.length > 0 && z >= Z_95_ONE_SIDED);
  const rate = c.passedCases / Math.max(1, c.cases);
  const belowThreshold = options.thresholdGiven === true && rate + 1e-9 < options.threshold;
  const runs = `runs ${c.passedRuns}/${c.runs} vs ${b.passedRuns}/${b.runs} (z = ${z.toFixed(2)})`;
  const reason = significant
    ? `regressed against version ${baselineVersion}: ${regressed.length} case(s) pass on ${baselineVersion} and fail on ${candidateVersion}${stable.length > 0 ? ` (${stable.length} of them passed every baseline run)` : ''}; ${runs}`
    : belowThreshold
      ? `${c.passedCases}/${c.cases} cases pass (${(rate * 100).toFixed(1)}%, threshold ${(options.threshold * 100).toFixed(1)}%)`
      : `no significant drop against version ${baselineVersion}: ${runs}, ${regressed.length} regressed case(s), none stable on the baseline`;
  return { pass: !significant && !belowThreshold, reason, candidate: c, baseline: b, regressed, failed, z };
}
