/**
 * `gatehouse prompts history <id>` and `gatehouse prompts impact <id> [--version N] [--requests]`
 * (docs/prompts.md): read from the audit store, like the other reports.
 */
import { promptHistory, promptImpact, promptRequests, type VersionStats } from '../prompts/impact.js';
import { parse, parseCount, STORE_OPTIONS, UsageError } from './arguments.js';
import { readStore, type CommandIO } from './commandIO.js';
import { formatTable, type Cell } from './table.js';

function promptId(positionals: string[], usage: string): string {
  const id = positionals[0];
  if (id === undefined || positionals.length > 1) throw new UsageError(usage);
  return id;
}

export async function promptsHistoryCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parse(argv, STORE_OPTIONS, true);
  const id = promptId(positionals, 'usage: gatehouse prompts history ID');
  const rows = await readStore(io, values, (db) => promptHistory(db, id));
  io.out(formatTable(['time', 'label', 'from', 'to', 'sha256', 'commit', 'gateway'], rows.map((r) => [
    r.start_time as Date, r.label as string, (r.from_version as string | null) ?? '-', (r.to_version as string | null) ?? '-', r.sha256 as string | null, r.commit as string | null, r.gateway_instance as string | null,
  ])));
  io.out(`${rows.length} label move(s)`);
  return 0;
}

const rate = (n: number, of: number): string => (of === 0 ? '-' : `${((100 * n) / of).toFixed(1)}%`);
const ms = (v: number | null): Cell => (v === null ? '-' : Number(v.toFixed(1)));

function column(s: VersionStats | undefined): Cell[] {
  if (s === undefined) return ['(none)', '', '', '', '', '', '', '', '', '', ''];
  return [
    s.from === null ? '-' : `${s.from.toISOString()} .. ${s.to!.toISOString()}`,
    s.requests, s.users, s.tenants, rate(s.errors, s.requests), rate(s.refusals, s.requests), rate(s.denials, s.requests), s.cost_usd, ms(s.p50_ms), ms(s.p95_ms),
    `${s.errors}/${s.refusals}/${s.denials}`,
  ];
}

export async function promptsImpactCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parse(argv, { ...STORE_OPTIONS, version: { type: 'string' }, requests: { type: 'boolean' }, limit: { type: 'string' }, json: { type: 'boolean' } }, true);
  const id = promptId(positionals, 'usage: gatehouse prompts impact ID [--version N] [--requests] [--limit N] [--json]');
  if (values.version !== undefined && !/^[1-9][0-9]{0,6}$/.test(values.version)) throw new UsageError('--version: a version number');
  const limit = parseCount(values.limit, '--limit', 1_000);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError('--limit: an integer from 1 to 100000');
  const result = await readStore(io, values, async (db) => {
    const impact = await promptImpact(db, id, values.version);
    const requests = impact !== undefined && values.requests === true ? await promptRequests(db, id, impact.version, limit) : undefined;
    return { impact, requests };
  });
  const { impact, requests } = result;
  if (impact === undefined) {
    io.err(`no requests rendered prompt ${id}${values.version === undefined ? '' : ` version ${values.version}`}`);
    return 1;
  }
  if (values.json === true) {
    io.out(JSON.stringify({ ...impact, ...(requests !== undefined ? { requests } : {}) }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2));
    return 0;
  }
  io.out(`prompt ${impact.prompt} version ${impact.version}${impact.sha256 ? ` (${impact.sha256})` : ''}`);
  io.out(`first request ${impact.current.from?.toISOString() ?? '-'}, last ${impact.current.to?.toISOString() ?? '-'}`);
  for (const d of impact.deploys) {
    io.out(`label ${String(d.label)}: ${String(d.from_version ?? '-')} -> ${String(d.to_version ?? '-')} at ${(d.start_time as Date).toISOString()}${d.commit ? ` (commit ${String(d.commit)})` : ''} on ${String(d.gateway_instance ?? '-')}`);
  }
  const names = ['time range', 'requests', 'users', 'tenants', 'error rate', 'refusal rate', 'policy-denial rate', 'cost_usd', 'p50 ms', 'p95 ms', 'errors/refusals/denials'];
  const now = column(impact.current);
  const before = column(impact.previous);
  io.out('');
  io.out(formatTable(['', `version ${impact.version}`, impact.previous ? `version ${impact.previous.version} (same length before)` : 'previous version'], names.map((n, i) => [n, now[i], before[i]])));
  if (requests !== undefined) {
    io.out('');
    io.out(formatTable(['start_time', 'request_id', 'tenant_id', 'user_id', 'label', 'outcome'], requests.map((r) => [
      r.start_time as Date, r.request_id as string, r.tenant_id as string, r.user_id as string | null, r.label as string | null, r.outcome as string,
    ])));
    io.out(`${requests.length} request(s)`);
  }
  return 0;
}
