/**
 * What the MCP gateway adds to a tool call (`npm run bench:mcp`): the official
 * SDK client calls `tools/call` on a local SDK MCP server (bench/lib/mcpUpstream.ts)
 * directly, and the same tool through `gatehouse proxy` at `/mcp`, one call at a
 * time, interleaved in rounds (direct, gateway, direct, ...), in the same run.
 *
 * The gateway path is the production one: virtual key, the committed Rego tool
 * policy (list and call decisions), the response policy on the result, a span and
 * an audit record in the durable spool. The policy data is a copy of
 * policies/data with one tenant, `bench`, allowed every tool (`tools: ["*"]`).
 * The calls are made and timed by bench/lib/mcpCalls.ts, as in `npm run bench`'s MCP rows.
 * Reported: p50 and p99 of each side, and the added latency as a difference and
 * a ratio against the direct call.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateKey, hashKey } from '../proxy/identity/keyHash.js';
import { REPO_DIR } from './lib/gatehouseSetup.js';
import { compareMcp, connectMcp, waitForTool } from './lib/mcpCalls.js';
import { coreLayout, freePort, startProcess, waitForHttp } from './lib/processes.js';

const QUICK = process.argv.includes('--quick');
const CALLS = QUICK ? 2_000 : 10_000;
const ROUNDS = 5;

const work = await mkdtemp(join(tmpdir(), 'gatehouse-bench-mcp-'));
const logDir = join(work, 'logs');
await mkdir(logDir, { recursive: true });
const cores = coreLayout();
const upstream = startProcess('mcp-upstream', 'node', ['--import', 'tsx', join(REPO_DIR, 'bench', 'lib', 'mcpUpstream.ts')], { cpus: cores.load, logDir, cwd: REPO_DIR });
let gateway: ReturnType<typeof startProcess> | undefined;
try {
  const [, upstreamPort] = await upstream.waitForLine(/^listening (\d+)/);
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}/mcp`;
  const policiesDir = join(work, 'policies');
  await cp(join(REPO_DIR, 'policies'), policiesDir, { recursive: true });
  const tenantsFile = join(policiesDir, 'data', 'tenants.json');
  const tenants = JSON.parse(await readFile(tenantsFile, 'utf8')) as { tenants: Record<string, unknown> };
  tenants.tenants.bench = {
    limits: { tenant: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 } }, budgets: {}, max_tokens: 4096, prompt_injection: 'deny',
    pii: { redact: [], pseudonymize: false, response_redact: ['payment_card'] }, tools: ['*'],
  };
  await writeFile(tenantsFile, JSON.stringify(tenants));
  const key = generateKey();
  const config = join(work, 'gatehouse.yaml');
  await writeFile(config, stringify({
    dataDir: join(work, 'data'),
    providers: { sim: { type: 'simulated' } },
    models: { 'gpt-4o-mini': { targets: [{ provider: 'sim', model: 'gpt-4o-mini' }] } },
    keys: [{ id: 'bench', hash: hashKey(key), tenant: 'bench', team: 'support', user: 'bench-user' }],
    policy: { dir: policiesDir, watch: false },
    mcp: { servers: { crm: { url: upstreamUrl } } },
  }));
  // BENCH_PROF=<dir>: a CPU profile of the gateway, written when it stops.
  const profile = process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
  const port = await freePort();
  gateway = startProcess('gatehouse', 'node', [...profile, join(REPO_DIR, 'bin', 'gatehouse.mjs'), 'proxy', '--config', config, '--port', String(port)], { cpus: cores.sut, logDir, cwd: REPO_DIR, env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
  await waitForHttp(`http://127.0.0.1:${port}/readyz`, 120_000);

  const direct = await connectMcp(upstreamUrl);
  const through = await connectMcp(`http://127.0.0.1:${port}/mcp`, { authorization: `Bearer ${key}` });
  await waitForTool(through, 'crm.lookup');
  const result = await compareMcp(direct, through, gateway.pid, { calls: CALLS, rounds: ROUNDS, warmup: 500 });
  await direct.close();
  await through.close();
  const [d50, d99, g50, g99] = [result.direct.p50, result.direct.p99, result.gateway.p50, result.gateway.p99];
  const ms = (x: number) => `${x.toFixed(3)} ms`;
  console.log(`\n\`npm run bench:mcp\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${CALLS} tools/call each side, one at a time, ${ROUNDS} interleaved rounds${cores.pinned ? ', gateway pinned to its own core' : ''}):\n`);
  console.log('| path | p50 | p99 |');
  console.log('|---|---|---|');
  console.log(`| direct: SDK client → SDK server (baseline) | ${ms(d50)} | ${ms(d99)} |`);
  console.log(`| through Gatehouse /mcp (key, tool policy, response policy, span, audit spool) | ${ms(g50)} | ${ms(g99)} |`);
  console.log(`| added by the gateway | +${ms(g50 - d50)} (${(g50 / d50).toFixed(2)}x) | +${ms(g99 - d99)} (${(g99 / d99).toFixed(2)}x) |`);
} finally {
  await gateway?.stop();
  await upstream.stop();
  await rm(work, { recursive: true, force: true });
}
