/** The readiness report as a table (people), JSON or JUnit XML (CI). */
import type { CheckResult } from './check.js';

export function summary(results: readonly CheckResult[]): { pass: number; warn: number; fail: number } {
  return {
    pass: results.filter((r) => r.status === 'pass').length,
    warn: results.filter((r) => r.status === 'warn').length,
    fail: results.filter((r) => r.status === 'fail').length,
  };
}

export function asTable(results: readonly CheckResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.status.toUpperCase().padEnd(4)}  ${r.id.padEnd(24)}  ${r.title}`);
    lines.push(`      ${r.detail}`);
    if (r.fix !== '') lines.push(`      fix: ${r.fix}`);
  }
  const s = summary(results);
  lines.push('', `${s.pass} passed, ${s.warn} warned, ${s.fail} failed: ${s.fail > 0 ? 'NOT READY' : 'ready'}`);
  return lines.join('\n');
}

export function asJson(results: readonly CheckResult[]): string {
  const s = summary(results);
  return JSON.stringify({ ready: s.fail === 0, summary: s, checks: results }, null, 2);
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One testcase per check; a fail is a <failure>, a warn is a pass with its detail in <system-out>. */
export function asJunit(results: readonly CheckResult[]): string {
  const s = summary(results);
  const cases = results.map((r) => {
    const body = r.status === 'fail'
      ? `<failure message="${xml(r.detail)}">${xml(`${r.detail}\nfix: ${r.fix}`)}</failure>`
      : r.status === 'warn' ? `<system-out>${xml(`WARN: ${r.detail}\nfix: ${r.fix}`)}</system-out>` : '';
    return `    <testcase classname="gatehouse.readiness" name="${xml(r.id)}">${body}</testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="gatehouse readiness" tests="${results.length}" failures="${s.fail}">`,
    `  <testsuite name="gatehouse readiness" tests="${results.length}" failures="${s.fail}" errors="0" skipped="0">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
