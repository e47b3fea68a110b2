/**
 * The README's quick start on the embedded default: `gatehouse start` with no
 * config, a few requests with the printed demo key, then the audit commands as
 * separate processes while `start` runs (they reach the store through the
 * collector's admin endpoint): the cost report and the search match sums
 * computed by hand from the responses and the price table, and an export
 * verifies on its own.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PRICES } from '../../proxy/cost/defaultPrices.js';
import { formatUnitsShort, picoPerToken } from '../../proxy/cost/money.js';
import { eventually, parseTable, runGatehouse, startGatewayProcess, stopAllProcesses, tempDir } from '../support/processes.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await stopAllProcesses();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Sent { user: string; requestId: string; input: number; output: number }

async function chat(url: string, key: string, user: string, content: string): Promise<Sent> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-gatehouse-user': user },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
  });
  const body = (await response.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
  expect(response.status).toBe(200);
  return { user, requestId: response.headers.get('x-request-id') ?? '', input: body.usage.prompt_tokens, output: body.usage.completion_tokens };
}

describe('quick start on the embedded default', () => {
  it('start, a few requests with the demo key, then report costs, audit search, export and verify', async () => {
    const data = await tempDir();
    const work = await tempDir(); // the shell's cwd for the commands, unlike the gateway's
    cleanups.push(data.remove, work.remove);
    const env = { GATEHOUSE_DATA_DIR: data.dir };
    const gateway = await startGatewayProcess(undefined, { env });
    expect(gateway.demoKey).toBe((await readFile(join(data.dir, 'demo-key'), 'utf8')).trim());
    expect(gateway.process.stdout).toMatch(/collector:\s+http:\/\/\S+\/v1\/traces/);

    const sent: Sent[] = [];
    const asks: Array<[string, string]> = [
      ['alice', 'Hello'], ['bob', 'How is the allocation of portfolio 7 split?'], ['alice', 'Summarise the last quarter for me in three lines'],
      ['bob', 'Hi'], ['carol', 'What is the fee on the balanced fund?'],
    ];
    for (const [user, content] of asks) sent.push(await chat(gateway.url, gateway.demoKey!, user, content));

    const price = DEFAULT_PRICES['gpt-4o-mini']!;
    const expected = new Map<string, { requests: number; input: number; output: number; cost: bigint }>();
    for (const s of sent) {
      const e = expected.get(s.user) ?? { requests: 0, input: 0, output: 0, cost: 0n };
      e.requests++;
      e.input += s.input;
      e.output += s.output;
      e.cost += BigInt(s.input) * picoPerToken(price.input) + BigInt(s.output) * picoPerToken(price.output);
      expected.set(s.user, e);
    }

    // The spool ships within ~100 ms; the report must show every request.
    const run = (args: string[]) => runGatehouse(args, { env, cwd: work.dir });
    const costs = await eventually(async () => {
      const result = await run(['report', 'costs', '--by', 'user']);
      const total = parseTable(result.stdout).find((r) => r.user === 'TOTAL');
      return Number(total?.requests) >= sent.length || result.code !== 0 ? result : undefined;
    }, 20_000, 'every request in the cost report', 200);
    expect(costs.code, costs.stderr).toBe(0);
    const rows = parseTable(costs.stdout);
    for (const [user, e] of expected) {
      const row = rows.find((r) => r.user === user);
      expect(row, `${user} in\n${costs.stdout}`).toBeDefined();
      expect(Number(row!.requests)).toBe(e.requests);
      expect(Number(row!.input_tokens)).toBe(e.input);
      expect(Number(row!.output_tokens)).toBe(e.output);
      expect(row!.cost_usd).toBe(formatUnitsShort(e.cost));
      expect(row!.estimated_usd).toBe('0');
      expect(Number(row!.errors)).toBe(0);
    }
    const total = rows.find((r) => r.user === 'TOTAL')!;
    expect(Number(total.requests)).toBe(sent.length);
    // Exact: the report's total is the decimal sum of the per-request costs.
    expect(total.cost_usd).toBe(formatUnitsShort([...expected.values()].reduce((sum, e) => sum + e.cost, 0n)));

    const search = await run(['audit', 'search', '--user', 'alice']);
    expect(search.code, search.stderr).toBe(0);
    const found = parseTable(search.stdout).filter((r) => r.request_id);
    expect(new Set(found.map((r) => r.request_id))).toEqual(new Set(sent.filter((s) => s.user === 'alice').map((s) => s.requestId)));
    for (const r of found) {
      expect(r).toMatchObject({ user_id: 'alice', model: 'gpt-4o-mini', outcome: 'ok', status: '200' });
    }
    expect(search.stdout).toMatch(/^2 request\(s\)$/m);

    // A relative --out is relative to the shell that ran the command, not to the running gateway.
    const exported = await run(['audit', 'export', '--out', 'audit-export']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(new RegExp(`^exported ${sent.length} records`));
    const manifest = JSON.parse(await readFile(join(work.dir, 'audit-export', 'manifest.json'), 'utf8')) as { rows: { records: number } };
    expect(manifest.rows.records).toBe(sent.length);

    const verifyExport = await run(['audit', 'verify', '--dir', 'audit-export']);
    expect(verifyExport.code, verifyExport.stdout + verifyExport.stderr).toBe(0);
    expect(verifyExport.stdout).toMatch(new RegExp(`^OK .*\\b${sent.length} records\\b`));
    const verifyStore = await run(['audit', 'verify']);
    expect(verifyStore.code, verifyStore.stdout + verifyStore.stderr).toBe(0);
    expect(verifyStore.stdout).toMatch(/^OK /);

    expect(await gateway.process.stop()).toBe(0);
    // Stopped: the same commands open the DuckDB file directly, and the signed head covers every record.
    const after = await run(['audit', 'verify']);
    expect(after.code, after.stdout + after.stderr).toBe(0);
    expect(after.stdout).toMatch(new RegExp(`^OK .*\\b${sent.length} records .*\\b0 records after the last checkpoint`));
  }, 150_000);
});
