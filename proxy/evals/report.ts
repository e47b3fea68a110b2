/** An eval's report: a table for people, JUnit XML and JSON for CI (docs/evals.md, "Output"). */
import { casePasses, type GateOptions, type GateResult } from './gate.js';
import type { CaseResult } from './runner.js';

export interface EvalReport {
  prompt: string;
  candidate: { version: number; sha256: string; results: CaseResult[] };
  baseline?: { version: number; sha256: string; results: CaseResult[] };
  options: GateOptions & { repeat: number };
  gate: GateResult;
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

export function asTable(report: EvalReport): string {
  const base = new Map(report.baseline?.results.map((r) => [r.id, r]) ?? []);
  const lines = [`prompt ${report.prompt} version ${report.candidate.version} (${report.candidate.sha256})${report.baseline ? ` against version ${report.baseline.version}` : ''}, ${report.options.repeat} run(s) per case`, ''];
  const header = ['case', `v${report.candidate.version}`, ...(report.baseline ? [`v${report.baseline.version}`] : []), 'result', 'first failing assertion'];
  const rows = report.candidate.results.map((r) => {
    const b = base.get(r.id);
    const ok = casePasses(r, report.options);
    const firstFail = r.runs.flatMap((run) => run.verdicts).find((v) => !v.pass);
    const result = !ok && report.gate.regressed.includes(r.id) ? 'REGRESSED' : ok ? 'pass' : 'FAIL';
    return [r.id, pct(r.passRate), ...(b ? [pct(b.passRate)] : report.baseline ? ['-'] : []), result, firstFail ? `${firstFail.type}: ${firstFail.reason}${firstFail.modelGraded ? ' (model-graded)' : ''}` : ''];
  });
  const widths = header.map((_, i) => Math.max(header[i]!.length, ...rows.map((row) => row[i]!.length)));
  lines.push(header.map((h, i) => h.padEnd(widths[i]!)).join('  ').trimEnd());
  for (const row of rows) lines.push(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
  lines.push('', `gate: ${report.gate.pass ? 'PASS' : 'FAIL'}: ${report.gate.reason}`);
  return lines.join('\n');
}

export function asJson(report: EvalReport): string {
  return JSON.stringify(report, null, 2);
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One testcase per case; a failing case is a <failure> whose message says REGRESSED when it passed on the baseline. */
export function asJunit(report: EvalReport): string {
  const failures = report.candidate.results.filter((r) => !casePasses(r, report.options));
  const cases = report.candidate.results.map((r) => {
    if (casePasses(r, report.options)) return `    <testcase classname="gatehouse.eval.${xml(report.prompt)}" name="${xml(r.id)}"/>`;
    const regressed = report.gate.regressed.includes(r.id);
    const reasons = r.runs.flatMap((run, i) => run.verdicts.filter((v) => !v.pass).map((v) => `run ${i + 1}: ${v.type}: ${v.reason}${v.modelGraded ? ' (model-graded)' : ''}`));
    const message = `${regressed ? `REGRESSED: passes on version ${report.baseline!.version}, fails on version ${report.candidate.version}` : 'FAILED'} (${pct(r.passRate)} of runs pass, needs ${pct(report.options.caseThreshold)})`;
    return `    <testcase classname="gatehouse.eval.${xml(report.prompt)}" name="${xml(r.id)}"><failure message="${xml(message)}">${xml(reasons.join('\n'))}</failure></testcase>`;
  });
  const name = `gatehouse eval ${report.prompt} v${report.candidate.version}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(name)}" tests="${cases.length}" failures="${failures.length}">`,
    `  <testsuite name="${xml(name)}" tests="${cases.length}" failures="${failures.length}" errors="0" skipped="0">`,
    ...cases,
    `    <system-out>${xml(`gate: ${report.gate.pass ? 'PASS' : 'FAIL'}: ${report.gate.reason}`)}</system-out>`,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
