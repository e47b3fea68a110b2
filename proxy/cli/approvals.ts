/**
 * `gatehouse approvals list|show|approve|deny`: the approvers' CLI. It calls a
 * running gateway's approvals API (`--url`, default http://127.0.0.1:8080) with
 * the approver's own key (`--key`, or GATEHOUSE_APPROVER_KEY): the approver is
 * the key's user, never a name typed here.
 *
 *   gatehouse approvals list [--status pending|approved|denied|expired|used] [--limit N] [--json]
 *   gatehouse approvals show ID
 *   gatehouse approvals approve ID --reason TEXT
 *   gatehouse approvals deny ID --reason TEXT
 */
import { parseArgs } from 'node:util';

type Action = 'list' | 'show' | 'approve' | 'deny';

/** How long the CLI waits for the gateway. */
const REQUEST_TIMEOUT_MS = 30_000;

const USAGE: Record<Action, string> = {
  list: 'gatehouse approvals list [--status pending|approved|denied|expired|used] [--limit N] [--json] [--url URL] [--key KEY | GATEHOUSE_APPROVER_KEY]',
  show: 'gatehouse approvals show ID [--url URL] [--key KEY | GATEHOUSE_APPROVER_KEY]',
  approve: 'gatehouse approvals approve ID --reason TEXT [--url URL] [--key KEY | GATEHOUSE_APPROVER_KEY]',
  deny: 'gatehouse approvals deny ID --reason TEXT [--url URL] [--key KEY | GATEHOUSE_APPROVER_KEY]',
};

interface ApprovalView {
  id: string; status: string; tool: string; requester: { user: string | null; agent: string | null; key_id: string };
  required: number; approved_by: string[]; expires_at: string; reason: string;
}

export async function approvalsCommand(action: Action, argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { reason: { type: 'string' }, url: { type: 'string' }, key: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
    });
  } catch (error) {
    process.stderr.write(`usage error: ${(error as Error).message}\nusage: ${USAGE[action]}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const key = values.key ?? process.env.GATEHOUSE_APPROVER_KEY;
  const id = positionals[0];
  const needsId = action !== 'list';
  const needsReason = action === 'approve' || action === 'deny';
  if (key === undefined || key === '' || (needsId && (id === undefined || id === '' || positionals.length > 1)) || (!needsId && positionals.length > 0) || (needsReason && (values.reason === undefined || values.reason.trim() === ''))) {
    process.stderr.write(`usage: ${USAGE[action]}\n`);
    return 2;
  }
  const base = `${(values.url ?? 'http://127.0.0.1:8080').replace(/\/$/, '')}/v1/gatehouse/approvals`;
  const query = new URLSearchParams();
  if (values.status !== undefined) query.set('status', values.status);
  if (values.limit !== undefined) query.set('limit', values.limit);
  const url = action === 'list' ? `${base}${query.size > 0 ? `?${query}` : ''}`
    : action === 'show' ? `${base}/${encodeURIComponent(id!)}` : `${base}/${encodeURIComponent(id!)}/${action}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: needsReason ? 'POST' : 'GET',
      headers: { authorization: `Bearer ${key}`, ...(needsReason ? { 'content-type': 'application/json' } : {}) },
      ...(needsReason ? { body: JSON.stringify({ reason: values.reason }) } : {}),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const why = (error as Error).name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : (error as Error).message;
    process.stderr.write(`gatehouse: cannot reach the gateway at ${base}: ${why}\n`);
    return 1;
  }
  const body = await response.text();
  if (!response.ok) {
    process.stderr.write(`gatehouse: ${response.status}: ${body}\n`);
    return 1;
  }
  let parsedBody: unknown;
  try {
    parsedBody = JSON.parse(body);
  } catch {
    process.stderr.write(`gatehouse: ${base} answered ${response.status} with a body that is not JSON; is --url the gateway?\n`);
    return 1;
  }
  if (action !== 'list' || values.json === true) {
    process.stdout.write(`${action === 'list' ? body : JSON.stringify(parsedBody, null, 2)}\n`);
    return 0;
  }
  const rows = (parsedBody as { data: ApprovalView[] }).data;
  const table = [['id', 'status', 'tool', 'requester', 'approvals', 'expires_at', 'reason']];
  for (const a of rows) {
    const who = [a.requester.user, a.requester.agent ? `agent ${a.requester.agent}` : null].filter(Boolean).join(', ') || `key ${a.requester.key_id}`;
    table.push([a.id, a.status, a.tool, who, `${a.approved_by.length}/${a.required}`, a.expires_at, a.reason]);
  }
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  process.stdout.write(`${table.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n')}\n${rows.length} approval(s)\n`);
  return 0;
}
