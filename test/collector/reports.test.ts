import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUnitsShort, parseDecimal } from '../../proxy/cost/money.js';
import { A } from '../../proxy/telemetry/attributes.js';
import { collectorCommands, type RunningCollector } from '../../collector/cli/index.js';
import { auditSpan, captureStdout, makeTempDir, postJson, removeDir, type SpanSpec, startTestCollector } from './support.js';

async function cli(name: string, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const command = collectorCommands[name];
  if (!command) throw new Error(`${name} is not registered`);
  return captureStdout(() => command(argv));
}

/** Parses a printed table into rows keyed by header. */
function table(text: string): Array<Record<string, string>> {
  const lines = text.trim().split('\n');
  const headers = (lines[0] ?? '').trim().split(/\s+/);
  return lines.slice(2).filter((l) => !/request\(s\)$/.test(l)).map((l) => {
    const cells = l.trim().split(/\s{2,}/);
    return Object.fromEntries(headers.map((h, i) => [h, cells[i] ?? '']));
  });
}

const TEAMS = ['wealth', 'retail', 'ops'];
const USERS = ['alice', 'bob', 'carol', 'dave'];
const VERSIONS = ['v1', 'v2'];
const OUTCOMES = ['ok', 'ok', 'ok', 'error', 'denied'];

describe('reports', () => {
  let dir: string;
  let collector: RunningCollector;
  const spans: SpanSpec[] = [];

  beforeAll(async () => {
    dir = await makeTempDir();
    for (let i = 0; i < 60; i++) {
      spans.push(auditSpan({
        [A.team]: TEAMS[i % 3] as string, [A.user]: USERS[i % 4] as string, [A.promptVersion]: VERSIONS[Math.floor(i / 30)] as string,
        [A.agent]: i % 2 === 0 ? 'advisor-bot' : 'support-bot',
        [A.inputTokens]: 100 + i, [A.outputTokens]: 10 + i, [A.cacheReadTokens]: i % 5,
        // Amounts whose binary-float sum drifts (0.1 + 0.2 style); the report must add them exactly.
        [A.costUsd]: `0.${String(15_749_999_999 + i * 1_000_000_001).padStart(12, '0')}`, [A.usageEstimated]: i % 6 === 0,
        [A.outcome]: OUTCOMES[i % 5] as string, [A.requestId]: `report-req-${i}`,
        ...(i === 7 ? { [A.toolCalls]: JSON.stringify([{ id: 't1', name: 'send_email', arguments: { to: 'cfo@example.com' } }]) } : {}),
      }, { startMs: Date.UTC(2025, 0, 15, 9 + Math.floor(i / 20), i) }));
    }
    collector = await startTestCollector({ dataDir: dir, port: 0 });
    await postJson(collector.tracesUrl, spans.slice(0, 25));
    await postJson(collector.tracesUrl, spans.slice(25));
  });
  afterAll(async () => {
    await collector.stop();
    await removeDir(dir);
  });

  function expected(key: (s: SpanSpec) => string, filter: (s: SpanSpec) => boolean = () => true) {
    const sums = new Map<string, { requests: number; input: number; output: number; cached: number; cost: bigint; estimated: bigint; errors: number; denials: number }>();
    for (const s of spans.filter(filter)) {
      const k = key(s);
      const row = sums.get(k) ?? { requests: 0, input: 0, output: 0, cached: 0, cost: 0n, estimated: 0n, errors: 0, denials: 0 };
      row.requests++;
      row.input += Number(s.attributes[A.inputTokens]);
      row.output += Number(s.attributes[A.outputTokens]);
      row.cached += Number(s.attributes[A.cacheReadTokens]);
      const cost = parseDecimal(String(s.attributes[A.costUsd]))!;
      row.cost += cost;
      if (s.attributes[A.usageEstimated] === true) row.estimated += cost;
      if (s.attributes[A.outcome] === 'error') row.errors++;
      if (s.attributes[A.outcome] === 'denied') row.denials++;
      sums.set(k, row);
    }
    return sums;
  }

  function expectMatches(printed: Array<Record<string, string>>, by: string, sums: ReturnType<typeof expected>): void {
    for (const [k, e] of sums) {
      const row = printed.find((r) => r[by] === k);
      expect(row, `row for ${k}`).toBeDefined();
      expect(Number(row?.requests)).toBe(e.requests);
      expect(Number(row?.input_tokens)).toBe(e.input);
      expect(Number(row?.output_tokens)).toBe(e.output);
      expect(Number(row?.cached_tokens)).toBe(e.cached);
      expect(row?.cost_usd).toBe(formatUnitsShort(e.cost));
      expect(row?.estimated_usd).toBe(formatUnitsShort(e.estimated));
      expect(Number(row?.errors)).toBe(e.errors);
      expect(Number(row?.policy_denials)).toBe(e.denials);
    }
    const total = printed.find((r) => r[by] === 'TOTAL');
    expect(Number(total?.requests)).toBe([...sums.values()].reduce((n, e) => n + e.requests, 0));
    // The TOTAL is the exact decimal sum of the per-record costs.
    expect(total?.cost_usd).toBe(formatUnitsShort([...sums.values()].reduce((n, e) => n + e.cost, 0n)));
    expect(total?.estimated_usd).toBe(formatUnitsShort([...sums.values()].reduce((n, e) => n + e.estimated, 0n)));
  }

  it('report costs --by team matches hand-computed sums (run through the running collector)', async () => {
    const result = await cli('report costs', ['--data-dir', dir, '--by', 'team']);
    expect(result.code).toBe(0);
    expectMatches(table(result.out), 'team', expected((s) => String(s.attributes[A.team])));
  });

  it('report costs --by user and --by prompt-version, within a time range', async () => {
    const byUser = await cli('report costs', ['--data-dir', dir, '--by', 'user']);
    expectMatches(table(byUser.out), 'user', expected((s) => String(s.attributes[A.user])));
    const from = Date.UTC(2025, 0, 15, 10);
    const byVersion = await cli('report costs', ['--data-dir', dir, '--by', 'prompt-version', '--from', new Date(from).toISOString(), '--to', '2025-01-16']);
    expectMatches(table(byVersion.out), 'prompt-version', expected((s) => String(s.attributes[A.promptVersion]), (s) => s.startMs >= from));
  });

  it('rejects an unknown grouping with a usage error', async () => {
    const result = await cli('report costs', ['--data-dir', dir, '--by', 'planet']);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/--by: unknown grouping 'planet'; known: tenant, team, user/);
  });

  it('audit search filters by user, agent and time', async () => {
    const result = await cli('audit search', ['--data-dir', dir, '--user', 'alice', '--agent', 'advisor-bot', '--from', '2025-01-15', '--to', '2025-01-16']);
    const rows = table(result.out);
    const want = spans.filter((s) => s.attributes[A.user] === 'alice' && s.attributes[A.agent] === 'advisor-bot');
    expect(rows.map((r) => r.request_id).sort()).toEqual(want.map((s) => String(s.attributes[A.requestId])).sort());
    expect(result.out).toContain(`${want.length} request(s)`);
  });

  it('audit show prints the full record, its tool calls and its checkpoint', async () => {
    await collector.store.writer?.checkpoint();
    const result = await cli('audit show', ['--data-dir', dir, 'report-req-7']);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/request_id\s+report-req-7/);
    expect(result.out).toMatch(/user_id\s+dave/);
    expect(result.out).toMatch(/send_email/);
    expect(result.out).toMatch(/cfo@example.com/);
    expect(result.out).toMatch(/signed by checkpoint seq \d+/);
    const missing = await cli('audit show', ['--data-dir', dir, 'no-such-request']);
    expect(missing.code).toBe(1);
  });
});

describe('CLI in another process while the collector holds the database', () => {
  it('runs through the collector admin endpoint', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const dir = await makeTempDir();
    const c = await startTestCollector({ dataDir: dir, port: 0 });
    try {
      await postJson(c.tracesUrl, [auditSpan({ [A.team]: 'remote-team', [A.costUsd]: 0.5 })]);
      const { stdout } = await promisify(execFile)(process.execPath, [
        '--import', 'tsx', new URL('./cliProcess.ts', import.meta.url).pathname, 'report costs', '--data-dir', dir, '--by', 'team',
      ]);
      const row = table(stdout).find((r) => r.team === 'remote-team');
      expect(Number(row?.requests)).toBe(1);
      expect(Number(row?.cost_usd)).toBe(0.5);
    } finally {
      await c.stop();
      await removeDir(dir);
    }
  });
});
