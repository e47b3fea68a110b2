/** `report costs`, `audit show`, `audit search`: the four questions as tables. */
import { costReport, COST_GROUPINGS } from '../reports/costReport.js';
import { searchRequests, showRequest } from '../reports/requestSearch.js';
import { toolReport } from '../reports/toolReport.js';
import type { Row } from '../store/auditDatabase.js';
import { parse, parseCount, parseTime, STORE_OPTIONS, UsageError } from './arguments.js';
import { readStore, type CommandIO } from './commandIO.js';
import { formatUnitsShort, parseDecimal } from '../../proxy/cost/money.js';
import { decimalCell, formatTable, printable, type Cell } from './table.js';

const FAR_FUTURE = new Date('9999-01-01T00:00:00Z');

function cell(v: unknown): Cell {
  return v === null || v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date
    ? v
    : JSON.stringify(v);
}

export async function reportCostsCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values } = parse(argv, { ...STORE_OPTIONS, by: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, tenant: { type: 'string' } });
  const by = values.by ?? 'team';
  if (!(by in COST_GROUPINGS)) throw new UsageError(`--by: unknown grouping '${by}'; known: ${Object.keys(COST_GROUPINGS).join(', ')}`);
  const from = parseTime(values.from, '--from', new Date(0));
  const to = parseTime(values.to, '--to', FAR_FUTURE);
  const rows = await readStore(io, values, (db) => costReport(db, { by, from, to, tenant: values.tenant }));
  const counts = ['requests', 'input_tokens', 'output_tokens', 'cached_tokens'] as const;
  const amounts = ['cost_usd', 'estimated_usd'] as const;
  const tail = ['errors', 'policy_denials'] as const;
  // Amounts are exact: summed as integers of 1e-12 USD, printed without trailing zeros.
  const amount = (v: unknown): bigint => parseDecimal(String(v ?? '0')) ?? 0n;
  const line = (key: Cell, r: Record<string, unknown>): Cell[] => [
    key, ...counts.map((m) => Number(r[m] ?? 0)), ...amounts.map((m) => decimalCell(formatUnitsShort(amount(r[m])))), ...tail.map((m) => Number(r[m] ?? 0)),
  ];
  const body = rows.map((r) => line(r.key === '' ? '(none)' : cell(r.key), r));
  const total: Record<string, unknown> = {};
  for (const m of [...counts, ...tail]) total[m] = rows.reduce((s, r) => s + Number(r[m] ?? 0), 0);
  for (const m of amounts) total[m] = formatUnitsShort(rows.reduce((s, r) => s + amount(r[m]), 0n));
  body.push(line('TOTAL', total));
  io.out(formatTable([by, ...counts, ...amounts, ...tail], body));
  return 0;
}

export async function auditSearchCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values } = parse(argv, {
    ...STORE_OPTIONS, user: { type: 'string' }, agent: { type: 'string' }, tenant: { type: 'string' }, team: { type: 'string' },
    'prompt-version': { type: 'string' }, outcome: { type: 'string' }, tool: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, limit: { type: 'string' },
  });
  const rows = await readStore(io, values, (db) => searchRequests(db, {
    user: values.user, agent: values.agent, tenant: values.tenant, team: values.team, promptVersion: values['prompt-version'],
    outcome: values.outcome, tool: values.tool, from: values.from === undefined ? undefined : parseTime(values.from, '--from', new Date(0)),
    to: values.to === undefined ? undefined : parseTime(values.to, '--to', FAR_FUTURE), limit: parseCount(values.limit, '--limit', 1000),
  }));
  const headers = ['start_time', 'request_id', 'user_id', 'agent_id', 'model', 'tool', 'outcome', 'status', 'input_tokens', 'output_tokens', 'cost_usd', 'seq'];
  io.out(formatTable(headers, rows.map((r) => headers.map((h) => cell(r[h])))));
  io.out(`${rows.length} request(s)`);
  return 0;
}

export const TOOL_GROUPINGS = ['tool', 'server', 'agent', 'user', 'tenant'] as const;

/** `report tools --by tool|server|agent|user|tenant`: MCP tool calls and how they ended. */
export async function reportToolsCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values } = parse(argv, { ...STORE_OPTIONS, by: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, tenant: { type: 'string' } });
  const by = values.by ?? 'tool';
  if (!(TOOL_GROUPINGS as readonly string[]).includes(by)) throw new UsageError(`--by: unknown grouping '${by}'; known: ${TOOL_GROUPINGS.join(', ')}`);
  const from = parseTime(values.from, '--from', new Date(0));
  const to = parseTime(values.to, '--to', FAR_FUTURE);
  const rows = await readStore(io, values, (db) => toolReport(db, by as (typeof TOOL_GROUPINGS)[number], from, to, values.tenant));
  const measures = ['calls', 'ok', 'denied', 'errors', 'rate_limited', 'blocked'] as const;
  const body = rows.map((r) => [r.key === null || r.key === '' ? '(none)' : cell(r.key), ...measures.map((m) => Number(r[m] ?? 0))]);
  body.push(['TOTAL', ...measures.map((m) => rows.reduce((s, r) => s + Number(r[m] ?? 0), 0))]);
  io.out(formatTable([by, ...measures], body));
  return 0;
}

function vertical(record: Row): string {
  const entries = Object.entries(record).filter(([, v]) => v !== null && v !== undefined);
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => {
    let text = v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : JSON.stringify(v);
    if (k === 'attempts' || k === 'details') {
      try { text = JSON.stringify(JSON.parse(String(v)), null, 2).replace(/\n/g, `\n${' '.repeat(width + 2)}`); } catch { /* keep raw */ }
    }
    return `${k.padEnd(width)}  ${printable(text).replace(/\\u000a/g, '\n')}`;
  }).join('\n');
}

export async function auditShowCommand(argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parse(argv, STORE_OPTIONS, true);
  const requestId = positionals[0];
  if (requestId === undefined) throw new UsageError('usage: audit show REQUEST_ID');
  const details = await readStore(io, values, (db) => showRequest(db, requestId));
  if (details.length === 0) {
    io.err(`no audit record with request id ${requestId}`);
    return 1;
  }
  if (details.length > 1) {
    io.err(`warning: ${details.length} records claim request id ${printable(requestId)} (seq ${details.map((d) => String(d.record.seq)).join(', ')}); all are shown, check gateway_instance`);
  }
  for (const d of details) {
    io.out(vertical(d.record));
    if (d.toolCalls.length > 0) {
      io.out('\ntool calls:');
      io.out(formatTable(['#', 'id', 'name', 'arguments'], d.toolCalls.map((t) => [cell(t.position), cell(t.call_id), cell(t.name), cell(t.arguments)])));
    }
    if (d.approvalSteps.length > 0) {
      io.out(`\napproval ${cell(d.record.approval_id)}:`);
      io.out(formatTable(['seq', 'time', 'event', 'actor', 'reason'], d.approvalSteps.map((a) => [cell(a.seq), cell(a.start_time), cell(a.event), cell(a.actor), cell(a.reason)])));
    }
    io.out(d.signedBy
      ? `\nsigned by checkpoint seq ${String(d.signedBy.seq)} at ${String(d.signedBy.time)} (key ${String(d.signedBy.key_id)})`
      : '\nnot yet covered by a signed checkpoint');
  }
  return 0;
}
