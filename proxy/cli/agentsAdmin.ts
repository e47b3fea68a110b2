/**
 * `gatehouse agents suspend|resume|decommission ID --reason TEXT`: asks a running
 * gateway (`--url`, default http://127.0.0.1:8080) to change an agent's status,
 * with a key that has the `agents:admin` role (`--key`, or GATEHOUSE_ADMIN_KEY).
 * The gateway applies it on every replica and records it in the audit trail.
 */
import { parseArgs } from 'node:util';

export async function agentsAdminCommand(action: 'suspend' | 'resume' | 'decommission', argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { reason: { type: 'string' }, url: { type: 'string' }, key: { type: 'string' } } });
  } catch (error) {
    process.stderr.write(`usage error: ${(error as Error).message}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const id = positionals[0];
  const key = values.key ?? process.env.GATEHOUSE_ADMIN_KEY;
  if (id === undefined || positionals.length > 1 || values.reason === undefined || key === undefined) {
    process.stderr.write(`usage: gatehouse agents ${action} ID --reason TEXT [--url URL] [--key KEY | GATEHOUSE_ADMIN_KEY]\n`);
    return 2;
  }
  const url = (values.url ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
  let response: Response;
  try {
    response = await fetch(`${url}/v1/gatehouse/agents/${encodeURIComponent(id)}/${action}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: values.reason }),
    });
  } catch (error) {
    process.stderr.write(`gatehouse: cannot reach the gateway at ${url}: ${(error as Error).message}\n`);
    return 1;
  }
  const body = await response.text();
  if (!response.ok) {
    process.stderr.write(`gatehouse: ${response.status}: ${body}\n`);
    return 1;
  }
  process.stdout.write(`${body}\n`);
  return 0;
}
