/**
 * Turns one run's results into the table, the target checks and BENCHMARKS.md.
 * Every ratio comes from the same run.
 */
import type { LoadSummary } from './loadgen.js';
import type { Machine } from './machine.js';
import type { Cores } from './processes.js';
import type { McpResult } from './mcpCalls.js';
import type { Latency1, Plan, Soak } from './scenarios.js';
import { ROW_LABELS, type RowId } from './targets.js';

export interface RowResult {
  id: RowId;
  label: string;
  version?: string;
  /** Why the row has no numbers (not installable, failed to start). */
  unavailable?: string;
  c32?: LoadSummary;
  c64?: LoadSummary;
  latency1?: Latency1;
  fixed?: LoadSummary;
  /** Open loop at a third of this run's full-pipeline maximum (RunResult.thirdRate). */
  fixedThird?: LoadSummary;
  stream?: LoadSummary;
  addedTtftP50?: number;
  memory?: { rssMb: number; peakMb: number };
}

export interface TargetCheck {
  goal: string;
  measured: string;
  met: boolean | undefined;
}

export interface RunResult {
  mode: 'quick' | 'full';
  command: string;
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  quiet: { quiet: boolean; waitedS: number; load: number };
  cores: Cores;
  plan: Plan;
  tools: Record<string, string>;
  rows: RowResult[];
  soak?: Soak;
  mcp?: McpResult;
  /** The rate of the `fixedThird` runs: a third of the full pipeline's maximum in this run. */
  thirdRate?: number;
  targets: TargetCheck[];
  /** An earlier run (another Node version) whose target figures are shown beside these. */
  compare?: { file: string; node: string; startedAt: string; mode: string; targets: TargetCheck[] };
}

export function emptyRow(id: RowId): RowResult {
  return { id, label: ROW_LABELS[id] };
}

export function maxRps(row: RowResult | undefined): number {
  if (!row) return NaN;
  const values = [row.c32, row.c64].filter((s): s is LoadSummary => s !== undefined && s.errors === 0).map((s) => s.rps);
  return values.length ? Math.max(...values) : NaN;
}

/**
 * The targets, as issue 17 (performance round 3) set them; the earlier rounds'
 * targets that it did not replace stay. Full-pipeline throughput is judged on the
 * row with every feature on (registry prompt and agent too) when it ran.
 */
export function checkTargets(rows: RowResult[], soak: Soak | undefined): TargetCheck[] {
  const by = (id: RowId) => rows.find((r) => r.id === id);
  const full = by('gatehouse-full');
  const everything = by('gatehouse-prompt-agent');
  const direct = by('direct');
  const out: TargetCheck[] = [];
  const ratio = (subject: RowResult | undefined, other: RowId, goal: number, word: string, what: string) => {
    const a = maxRps(subject);
    const b = maxRps(by(other));
    const r = a / b;
    const known = Number.isFinite(r);
    out.push({
      goal: `${what} ≥ ${word} ${ROW_LABELS[other]}`,
      measured: known ? `${fmt(a, 0)} vs ${fmt(b, 0)} req/s = ${goal < 1 ? `${fmt(r * 100, 0)}%` : `${fmt(r, 1)}×`}` : `not measured (${by(other)?.unavailable ?? subject?.unavailable ?? 'no number'})`,
      met: known ? r >= goal : undefined,
    });
  };
  ratio(everything, 'minimal', 0.5, '50% of', 'throughput with every feature on (key, policies, limits, registry prompt, agent, spool, spans)');
  ratio(full, 'minimal', 0.5, '50% of', 'full-pipeline throughput');
  ratio(full, 'portkey', 10, '10×', 'full-pipeline throughput');
  ratio(full, 'litellm', 20, '20×', 'full-pipeline throughput');
  const minimalAdded = by('minimal')?.latency1?.addedP50;
  const fullAdded = full?.latency1?.addedP50;
  if (fullAdded !== undefined && minimalAdded !== undefined) {
    out.push({ goal: 'added p50 at 1 connection ≤ 1.5× the minimal proxy’s', measured: `${fmt(fullAdded, 3)} ms vs ${fmt(minimalAdded, 3)} ms (= ${fmt(fullAdded / minimalAdded, 2)}×)`, met: fullAdded <= 1.5 * minimalAdded });
  }
  const fullAddedP99 = full?.latency1?.addedP99;
  if (fullAddedP99 !== undefined) out.push({ goal: 'added p99 at 1 connection ≤ 1 ms', measured: `${fmt(fullAddedP99, 3)} ms`, met: fullAddedP99 <= 1 });
  if (full?.fixed && direct?.fixed) {
    const added = full.fixed.latencyMs.p99 - direct.fixed.latencyMs.p99;
    out.push({ goal: 'at 2,000 req/s: zero errors', measured: `${full.fixed.errors} errors of ${full.fixed.requests}`, met: full.fixed.errors === 0 });
    out.push({ goal: 'at 2,000 req/s: added p99 ≤ 5 ms', measured: `${fmt(full.fixed.latencyMs.p99, 3)} − ${fmt(direct.fixed.latencyMs.p99, 3)} = ${fmt(added, 3)} ms`, met: added <= 5 });
  }
  if (full?.addedTtftP50 !== undefined) out.push({ goal: 'streaming added time-to-first-token p50 ≤ 1 ms', measured: `${fmt(full.addedTtftP50, 3)} ms`, met: full.addedTtftP50 <= 1 });
  if (full?.memory) out.push({ goal: 'peak RSS ≤ 200 MB', measured: `${fmt(Math.max(full.memory.peakMb, soak?.peakMb ?? 0), 1)} MB`, met: Math.max(full.memory.peakMb, soak?.peakMb ?? 0) <= 200 });
  if (soak) out.push({ goal: 'soak RSS growth ≤ 2 MB/min', measured: `${fmt(soak.slopeMbPerMin, 2)} MB/min over ${soak.minutes} min at ${soak.rate} req/s (after the first minute; ${fmt(soak.startMb, 0)} → ${fmt(soak.endMb, 0)} MB overall)`, met: soak.slopeMbPerMin <= 2 });
  return out;
}

export function table(rows: RowResult[]): string {
  const head = [
    'row',
    'max req/s, 32 conns',
    'max req/s, 64 conns',
    'CPU µs/request',
    'added latency @1 conn, p50 / p99 (ms)',
    '2,000 req/s open loop: p50 / p99 / p99.9 (ms), errors',
    'streaming: added TTFT p50 (ms), chunk gap p99 (ms), fidelity',
    'peak RSS (MB)',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of rows) {
    if (row.unavailable) {
      lines.push(`| ${row.label} | not run: ${row.unavailable} | | | | | | |`);
      continue;
    }
    const thr = (s: LoadSummary | undefined) => (s ? `${fmt(s.rps, 0)}${s.errors ? ` (${s.errors} errors)` : ''}` : '–');
    const lat = row.latency1 ? (row.id === 'direct' ? `${fmt(row.latency1.p50, 3)} / ${fmt(row.latency1.p99, 3)} (absolute)` : `${fmt(row.latency1.addedP50 ?? NaN, 3)} / ${fmt(row.latency1.addedP99 ?? NaN, 3)}`) : '–';
    const fixed = row.fixed ? `${fmt(row.fixed.latencyMs.p50, 2)} / ${fmt(row.fixed.latencyMs.p99, 2)} / ${fmt(row.fixed.latencyMs.p999, 2)}, ${row.fixed.errors}${errorKinds(row.fixed)}` : '–';
    const s = row.stream?.stream;
    const stream = s && s.streams === 0
      ? `every stream failed: ${row.stream!.errors} errors${errorKinds(row.stream!)}`
      : s
      ? `${row.id === 'direct' ? `${fmt(s.ttftMs.p50, 3)} (absolute)` : fmt(row.addedTtftP50 ?? NaN, 3)}, ${fmt(s.gapMs.p99, 2)}, ${s.faithful}/${s.streams}${row.stream!.errors ? ` (${row.stream!.errors} errors)` : ''}`
      : '–';
    const mem = row.memory ? fmt(row.memory.peakMb, 0) : '–';
    const cpu = row.c64?.cpuUsPerRequest ?? row.c32?.cpuUsPerRequest;
    lines.push(`| ${row.label} | ${thr(row.c32)} | ${thr(row.c64)} | ${cpu === undefined ? '–' : fmt(cpu, 0)} | ${lat} | ${fixed} | ${stream} | ${mem} |`);
  }
  return lines.join('\n');
}

function errorKinds(s: LoadSummary): string {
  const kinds = Object.entries(s.errorKinds);
  return kinds.length ? ` (${kinds.map(([k, n]) => `${k}: ${n}`).join(', ')})` : '';
}

export function targetsTable(checks: TargetCheck[], compare?: RunResult['compare']): string {
  const verdict = (c: TargetCheck | undefined) => (c === undefined || c.met === undefined ? 'not measured' : c.met ? '**met**' : '**missed**');
  if (!compare) {
    const lines = ['| target | measured | |', '|---|---|---|'];
    for (const c of checks) lines.push(`| ${c.goal} | ${c.measured} | ${verdict(c)} |`);
    return lines.join('\n');
  }
  const earlier = new Map(compare.targets.map((c) => [c.goal, c]));
  const lines = [`| target | measured | | ${compare.node}, for comparison (${compare.mode} run, ${compare.startedAt.slice(0, 16)}) | |`, '|---|---|---|---|---|'];
  for (const c of checks) {
    const e = earlier.get(c.goal);
    lines.push(`| ${c.goal} | ${c.measured} | ${verdict(c)} | ${e ? e.measured : 'not measured'} | ${e ? verdict(e) : ''} |`);
  }
  return lines.join('\n');
}

export function fmt(value: number, digits: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
