/**
 * `npm run bench:guardrails [-- --quick]`: what the hardened guardrails cost,
 * each as a ratio against a baseline measured in the same run.
 *
 * 1. Policy time per request (in-process, the real compiled policy): building the
 *    input (every caller turn with its normalized text) and evaluating it,
 *    against the input shape before normalization (user and tool text only),
 *    on the same request; and the normalizer alone per KB.
 * 2. Streaming (separate processes, bench/gatebench): time to first token and
 *    the gap between chunks, direct to the mock upstream and through
 *    `gatehouse proxy` for a tenant with no response rules, for one with the
 *    finance pack holding text until judged (the default), and for one with the
 *    pack in pass-through mode (stream_hold_chars 0). The mock streams prose in
 *    one-word chunks, 5 ms apart, a sentence every 8 words.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { generateKey, hashKey } from '../proxy/identity/keyHash.js';
import { readCompiled } from '../proxy/policy/compiled.js';
import { PolicyEngine } from '../proxy/policy/engine.js';
import { normalizeText } from '../proxy/policy/normalize.js';
import { readPolicyData } from '../proxy/policy/policyData.js';
import { requestPolicyInput, type RequestPolicyInput } from '../proxy/policy/input.js';
import type { ChatRequest } from '../proxy/canonical.js';
import { buildGatebench, GATEBENCH, load, type LoadSummary } from './lib/loadgen.js';
import { freePort, startProcess, waitForHttp } from './lib/processes.js';
import { REPO_DIR } from './lib/gatehouseSetup.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean' } } });
const QUICK = values.quick ?? false;

/** Median p50 of `rounds` interleaved rounds of each function (A, B, A, B, ...): machine noise hits both alike. */
function interleaved(runs: Array<() => unknown>, iterations: number, rounds = 7): number[] {
  const p50s = runs.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) runs.forEach((run, i) => p50s[i]!.push(measure(run, Math.ceil(iterations / rounds))));
  return p50s.map((xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
}

function measure(run: () => unknown, iterations: number): number {
  for (let i = 0; i < Math.min(2_000, iterations); i++) run();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(0.5 * (times.length - 1))]!;
}

const fmt = (us: number): string => `${us.toFixed(2)} µs`;

async function policyTime(): Promise<string[]> {
  const policies = join(REPO_DIR, 'policies');
  const engine = await PolicyEngine.load((await readCompiled(policies)).wasm, await readPolicyData(policies));
  const system = 'You are a helpful assistant for wealth advisors at a regulated bank. Answer concisely, cite the fund documents, and never give personal investment advice. '.repeat(6);
  const text = (s: string) => [{ type: 'text' as const, text: s }];
  const chat: ChatRequest = {
    model: 'gpt-4o', stream: false, streamUsage: false, maxTokens: 512,
    messages: [
      { role: 'system', content: text(system) },
      { role: 'user', content: text('What drove bond yields this quarter?') },
      { role: 'assistant', content: text('Yields rose on firmer inflation data and a hawkish central bank.') },
      { role: 'user', content: text('Summarise the main drivers for my client letter, in three lines.') },
    ],
  };
  const principal = { tenant: 'acme', team: 'advisory', user: 'advisor-1', key_id: 'key-7' };
  const iterations = QUICK ? 5_000 : 30_000;
  // Before: only user and tool turns carried text, and no normalized form.
  const legacy = (): RequestPolicyInput => {
    const input = requestPolicyInput({ principal, request: chat });
    input.request.messages = input.request.messages.map((m) => (m.role === 'user' || m.role === 'tool' ? { ...m, normalized: undefined as never } : { role: m.role } as never));
    return input;
  };
  const [before, after] = interleaved([
    () => engine.evaluateRequest(legacy()),
    () => engine.evaluateRequest(requestPolicyInput({ principal, request: chat })),
  ], iterations) as [number, number];
  const kb = (s: string) => s.repeat(Math.ceil(1024 / s.length)).slice(0, 1024);
  let n = 0;
  const ascii = measure(() => normalizeText(`${kb('Bond yields rose on firmer inflation data and a hawkish bank. ')}${n++}`), iterations);
  const latin = measure(() => normalizeText(`${kb('Les marchés ont réagi à la décision de la banque centrale. ')}${n++}`), iterations);
  const cached = measure(() => normalizeText(system), iterations);
  return [
    `| request policy per request (build input + evaluate), 4-turn chat with a ${system.length}-char system prompt | ${fmt(before)} (user/tool text only, not normalized) | ${fmt(after)} | ${(after / before).toFixed(2)}x |`,
    `| normalizeText, 1 KB ASCII prose, not seen before | | ${fmt(ascii)} | |`,
    `| normalizeText, 1 KB French (accents: NFKC + confusables), not seen before | | ${fmt(latin)} | |`,
    `| normalizeText, a text seen before (memo hit, ${system.length} chars) | | ${fmt(cached)} | |`,
  ];
}

async function streaming(): Promise<string[]> {
  await buildGatebench();
  const work = await mkdtemp(join(tmpdir(), 'gatehouse-guardrails-'));
  const logDir = join(work, 'logs');
  await mkdir(logDir, { recursive: true });
  const mock = startProcess('mock', GATEBENCH, ['mock', '-chunks', '24', '-chunk-interval', '5ms', '-sentences'], { cpus: '', logDir });
  const [, mockPort] = await mock.waitForLine(/^listening (\d+)/);
  const policiesDir = join(work, 'policies');
  await cp(join(REPO_DIR, 'policies'), policiesDir, { recursive: true });
  const tenantsFile = join(policiesDir, 'data', 'tenants.json');
  const tenants = JSON.parse(await readFile(tenantsFile, 'utf8')) as { tenants: Record<string, unknown> };
  const base = { limits: { tenant: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 } }, budgets: {}, max_tokens: 4096, prompt_injection: 'deny', pii: { redact: [], pseudonymize: false, response_redact: [] } };
  const finance = { packs: { finance: { investment_recommendation: true, promissory_statement: true } } };
  tenants.tenants['no-rules'] = base;
  tenants.tenants.hold = { ...base, ...finance };
  tenants.tenants.passthrough = { ...base, ...finance, stream_hold_chars: 0 };
  await writeFile(tenantsFile, JSON.stringify(tenants));
  // The global limit (3,000/min) would refuse the later rows: lift it, this bench measures latency.
  const defaultsFile = join(policiesDir, 'data', 'defaults.json');
  const defaults = JSON.parse(await readFile(defaultsFile, 'utf8')) as { global?: unknown };
  defaults.global = { limits: { requestsPerMinute: 1e9 } };
  await writeFile(defaultsFile, JSON.stringify(defaults));
  const keys = Object.fromEntries(['no-rules', 'hold', 'passthrough'].map((t) => [t, generateKey()]));
  const config = join(work, 'gatehouse.yaml');
  await writeFile(config, stringify({
    dataDir: join(work, 'data'),
    providers: { upstream: { type: 'openai', apiKey: 'sk-bench', baseUrl: `http://127.0.0.1:${mockPort}/v1` } },
    models: { 'gpt-4o-mini': { targets: [{ provider: 'upstream', model: 'gpt-4o-mini' }] } },
    keys: Object.entries(keys).map(([tenant, key]) => ({ id: tenant, hash: hashKey(key), tenant, user: 'bench' })),
    policy: { dir: policiesDir, watch: false },
    audit: { enabled: false },
  }));
  const port = await freePort();
  const gateway = startProcess('gatehouse', 'node', [join(REPO_DIR, 'bin', 'gatehouse.mjs'), 'proxy', '--config', config, '--port', String(port)], { cpus: '', logDir, cwd: REPO_DIR, env: { GATEHOUSE_LOG_LEVEL: 'warn' } });
  const bodyFile = join(work, 'stream.json');
  await writeFile(bodyFile, JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'How did markets move today?' }] }));
  const rows: string[] = [];
  try {
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, 120_000);
    const run = (url: string, headers: string[]): Promise<LoadSummary> =>
      load({ url, headers }, { bodyFile, cpus: '', durationS: QUICK ? 5 : 20, warmupS: 1, conns: 8, stream: true, expectChunks: 24, timeoutS: 10 });
    const direct = await run(`http://127.0.0.1:${mockPort}/v1/chat/completions`, []);
    const through = async (tenant: string) => run(`http://127.0.0.1:${port}/v1/chat/completions`, [`Authorization: Bearer ${keys[tenant]}`]);
    const results: Array<[string, LoadSummary]> = [['no response rules', await through('no-rules')], ['finance pack, hold until judged (default)', await through('hold')], ['finance pack, pass-through (stream_hold_chars 0)', await through('passthrough')]];
    const d = direct.stream!;
    rows.push(`| direct to the mock (baseline) | ${d.ttftMs.p50.toFixed(2)} ms | ${d.ttftMs.p99.toFixed(2)} ms | ${d.gapMs.p50.toFixed(2)} ms | ${d.gapMs.p99.toFixed(2)} ms | ${direct.errors} |`);
    for (const [label, r] of results) {
      const s = r.stream!;
      rows.push(`| ${label} | ${s.ttftMs.p50.toFixed(2)} ms (+${(s.ttftMs.p50 - d.ttftMs.p50).toFixed(2)}) | ${s.ttftMs.p99.toFixed(2)} ms | ${s.gapMs.p50.toFixed(2)} ms | ${s.gapMs.p99.toFixed(2)} ms | ${r.errors} |`);
    }
  } finally {
    await gateway.stop();
    await mock.stop();
    await rm(work, { recursive: true, force: true });
  }
  return rows;
}

const policy = await policyTime();
console.log('\n| measure | baseline p50 | p50 | ratio |\n|---|---|---|---|');
for (const row of policy) console.log(row);
const stream = await streaming();
console.log(`\nStreaming, 8 connections, ${QUICK ? 5 : 20} s each, 24 one-word chunks 5 ms apart (a sentence every 8 words):\n`);
console.log('| path | TTFT p50 | TTFT p99 | chunk gap p50 | chunk gap p99 | errors |\n|---|---|---|---|---|---|');
for (const row of stream) console.log(row);
