/** Rewrites BENCHMARKS.md from one run: commands, machine, versions, table, targets, reading. */
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { REPO_DIR } from './gatehouseSetup.js';
import { checkTargets, fmt, maxRps, table, targetsTable, type RowResult, type RunResult } from './report.js';

export async function writeBenchmarksDoc(run: RunResult, resultsFile: string): Promise<void> {
  const m = run.machine;
  const by = (id: RowResult['id']) => run.rows.find((r) => r.id === id);
  const quietLine = run.mode === 'quick'
    ? 'quick mode: no wait for a quiet machine; numbers are for iteration only.'
    : run.quiet.quiet
      ? `the run started once the 1-minute load average was ${fmt(run.quiet.load, 2)} (< 1.0), after waiting ${run.quiet.waitedS} s.`
      : `**the machine never got quiet**: after waiting ${run.quiet.waitedS} s the 1-minute load average was still ${fmt(run.quiet.load, 2)} (other work was running), and the run went ahead anyway. Expect noisier tails than on an idle machine.`;
  const checks = run.targets.length ? run.targets : checkTargets(run.rows, run.soak);
  const doc = `# Benchmarks

This file is rewritten by every \`npm run bench\`; the numbers below are from one run
(${run.mode}, ${run.startedAt} → ${run.finishedAt}). Raw results: \`${relative(REPO_DIR, resultsFile)}\`.

## Commands

\`\`\`sh
npm run bench                         # full run: waits for a quiet machine, 10-minute soak (~35 min)
npm run bench -- --quick              # short run for iteration (~6 min)
npm run bench -- --soak-minutes 3     # full figures, shorter soak
npm run bench -- --rows minimal,gatehouse-full --no-wait
npm run bench -- --compare bench/results/<earlier>.json   # show an earlier run's target figures beside (another Node)
node --import tsx bench/profile.ts [--bare] [--seconds 15]   # CPU profile of Gatehouse under load, top frames
\`\`\`

What it needs: Node (\`npm run bench\` runs every Node process, gateways and peers included, on the pinned Node 24; \`node --import tsx bench/run.ts\` from a shell runs them on the shell's \`node\`), Go (builds \`bench/gatebench\` into \`bench/.tools\`), Python 3 with venv
(LiteLLM goes into \`bench/.venv\`), npm (Portkey goes into \`bench/.peers\`), \`taskset\`, and
\`redis-server\` for the \`--workers\` row. Peers are installed on first use, never into the
project's dependencies. A peer that cannot be installed stays in the table with the reason.

## Machine

| | |
|---|---|
| cores (\`nproc\`) | ${m.nproc} × ${m.cpuModel} |
| memory | ${m.memoryGb} GB |
| Node | ${m.node} |
| kernel | ${m.kernel} |
| load average at start | ${m.loadAverage.join(' / ')} |
| quiet machine | ${quietLine} |
| pinning | ${run.cores.pinned ? `\`taskset -c ${run.cores.sut}\` for the system under test (each gateway, the minimal proxy, or the mock alone for *direct*); \`taskset -c ${run.cores.load}\` for the load generator, the mock upstream, the collector and Redis; \`taskset -c ${run.cores.all}\` for \`--workers 2\` (its two workers share the cores with the load side, so that row is not one-core-per-side)` : 'off (one core, or no taskset)'} |

## Versions

| | |
|---|---|
${Object.entries(run.tools).map(([k, v]) => `| ${k} | ${v} |`).join('\n')}

## Results

${table(run.rows)}

- *max req/s*: closed loop, ${run.plan.throughputS} s after ${run.plan.warmupS} s warm-up; a row with errors does not count as a maximum.
- *CPU µs/request*: CPU time (user + system) of the row's process tree during the 64-connection run, divided by the requests it answered (warm-up included): what one request costs, whatever else the machine was doing.
- *added latency*: 1 connection, ${run.plan.latencyRounds} interleaved rounds of ${run.plan.latencyRoundS} s (the rows in a different order each round); each row's p50/p99 over all its rounds minus the direct row's.
- *open loop*: ${fmt(run.plan.fixedRate, 0)} req/s constant arrival for ${run.plan.fixedRateS} s; latency from each request's scheduled time (no coordinated omission), 10 s timeout.
- *streaming*: ${run.plan.streamConns} connections, the mock sends ${run.plan.streamChunks} content chunks ${run.plan.streamIntervalMs} ms apart; TTFT = scheduled send → first content chunk, minus direct's p50; fidelity = streams that delivered exactly the ${run.plan.streamChunks} chunks in order, plus \`[DONE]\`.
- *peak RSS*: VmHWM of the row's process (all workers summed for \`--workers\`) at the end of its runs.
${run.soak ? `- *soak*: a fresh full-pipeline gateway at ${run.soak.rate} req/s for ${run.soak.minutes} min: RSS ${fmt(run.soak.startMb, 0)} → ${fmt(run.soak.endMb, 0)} MB, slope after the first minute ${fmt(run.soak.slopeMbPerMin, 2)} MB/min, ${run.soak.load.errors} errors of ${run.soak.load.requests}. The first minute is left out of the slope because the memory limit store's 60-second sliding-window log fills during it by design.` : '- *soak*: not run.'}

${extraSections(run)}
## Targets

${targetsTable(checks, run.compare)}
${run.compare ? `\nThe right-hand columns are the same targets measured by an earlier run on ${run.compare.node} (\`${run.compare.file}\`), kept for comparison.\n` : ''}
## Reading

${reading(run, by)}

## How it is measured, and why it is fair

- **One load tool for every row**: \`bench/gatebench\` (Go, standard library only). The same
  binary, body (a system prompt, a question, \`max_tokens\`, ${'`temperature`'}), connection counts and
  timeouts for every row; only the URL and the auth header differ. Closed loop for throughput;
  constant arrival for the fixed rate, where latency is measured from when each request was *due*
  (the wrk2 correction), so a stalled gateway cannot hide its stall. We wrote it rather than use
  vegeta or wrk2 because one tool had to do closed loop, open loop and SSE timing (TTFT, gaps,
  chunk fidelity) identically; wrk2 is not packaged in Debian, and vegeta has no SSE timing.
- **The mock upstream** is the same binary (\`gatebench mock\`): a pre-serialized OpenAI answer, no
  parsing, latency 0 (so the table shows each gateway's own cost), and an SSE mode.
- **Gatehouse, full pipeline** is \`gatehouse proxy\` with the default config in every part a
  request passes: virtual key, request and response Rego policy, the memory limit store, cost,
  spans, and the durable audit spool (\`required\`) shipping to a separate \`gatehouse collector\`.
  The one difference is data: a copy of \`policies/\` whose \`data/defaults.json\` limits and
  budgets are 1e9, because the default 3,000 requests/min global limit would otherwise answer 429.
  The limits are still evaluated and counted on every request.
- **Gatehouse, full + registry prompt + registered agent**: the same gateway process, called
  with a key bound to a registered agent (\`bench-agent\`: admission, its limits, budgets and run
  budget) and a body that names the registry prompt \`advisor\` version 2 with its variables
  (rendered, schema-checked, put before the question, recorded on the span) instead of the
  system prompt: every feature a request can use.
- **MCP tools/call**: the official SDK client calls a tool on a local SDK MCP server
  (\`bench/lib/mcpUpstream.ts\`) directly, and the same tool through the full pipeline's \`/mcp\`
  (key, tool policy, response policy, span, audit spool), one call at a time, interleaved in rounds.
- **Gatehouse, bare**: the same with \`policy.enabled: false\` and \`audit.enabled: false\`.
- **\`--workers 2\`** uses the Redis limit store: the memory store is per process, so with workers
  \`gatehouse\` refuses to start unless limits are in Redis (see README / \`proxy/cli/workers.ts\`).
- **Portkey**: the \`@portkey-ai/gateway\` npm package's own server (\`build/start-server.js --headless\`,
  \`NODE_ENV=production\`), one process, pointed at the mock with \`x-portkey-provider: openai\` and
  \`x-portkey-custom-host\`.
- **LiteLLM**: \`litellm --config … --num_workers 1\`, the production guide's settings that apply
  without a database (master key, \`set_verbose: false\`, JSON logs, \`LITELLM_LOG=ERROR\`),
  \`api_base\` = the mock.
`;
  // The hand-written analysis (profiles, experiments) follows the generated part, then the
  // per-stage figures of the bench:* scripts (bench/stages.md), so that a run never drops them.
  const analysis = await readFile(join(REPO_DIR, 'bench', 'analysis.md'), 'utf8').catch(() => '');
  const stages = (await readFile(join(REPO_DIR, 'bench', 'stages.md'), 'utf8').catch(() => '')).replace(/^<!--[\s\S]*?-->\s*/, '');
  await writeFile(join(REPO_DIR, 'BENCHMARKS.md'), [doc, analysis, stages].filter((part) => part !== '').join('\n'));
}

/** The open loop at a third of the maximum, the MCP rows and the scale-out figures, when the run has them. */
function extraSections(run: RunResult): string {
  const parts: string[] = [];
  const by = (id: RowResult['id']) => run.rows.find((r) => r.id === id);
  const third = run.rows.filter((r) => r.fixedThird);
  if (run.thirdRate !== undefined && third.length) {
    const direct = by('direct')?.fixedThird;
    parts.push(`### Open loop at a third of the full pipeline's maximum (${fmt(run.thirdRate, 0)} req/s)

The fixed 2,000 req/s above assumes a maximum near 6,000 req/s; this run's maximum was ${fmt(maxRps(by('gatehouse-full')), 0)}. Here the same open loop runs at a third of the measured maximum, the load the issue meant.

| row | p50 / p99 / p99.9 (ms) | added p99 over direct (ms) | errors |
|---|---|---|---|
${third.map((r) => `| ${r.label} | ${fmt(r.fixedThird!.latencyMs.p50, 2)} / ${fmt(r.fixedThird!.latencyMs.p99, 2)} / ${fmt(r.fixedThird!.latencyMs.p999, 2)} | ${r.id === 'direct' || !direct ? '–' : fmt(r.fixedThird!.latencyMs.p99 - direct.latencyMs.p99, 2)} | ${r.fixedThird!.errors} of ${r.fixedThird!.requests} |`).join('\n')}
`);
  }
  if (run.mcp) {
    const m = run.mcp;
    parts.push(`### MCP tools/call

${fmt(m.gateway.n, 0)} calls each side, one at a time, in interleaved rounds.

| path | p50 (ms) | p99 (ms) |
|---|---|---|
| direct: SDK client → SDK server | ${fmt(m.direct.p50, 3)} | ${fmt(m.direct.p99, 3)} |
| through Gatehouse \`/mcp\` (full pipeline) | ${fmt(m.gateway.p50, 3)} | ${fmt(m.gateway.p99, 3)} |
| added | +${fmt(m.gateway.p50 - m.direct.p50, 3)} (${fmt(m.gateway.p50 / m.direct.p50, 2)}×) | +${fmt(m.gateway.p99 - m.direct.p99, 3)} (${fmt(m.gateway.p99 / m.direct.p99, 2)}×) |

The gateway's CPU time per tool call: ${fmt(m.gatewayCpuUsPerCall, 0)} µs.
`);
  }
  const one = by('gatehouse-redis');
  const two = by('gatehouse-workers');
  const cpu1 = one?.c64?.cpuUsPerRequest;
  const cpu2 = two?.c64?.cpuUsPerRequest;
  if (cpu1 !== undefined) {
    parts.push(`### Scale-out

| | max req/s (64 conns) | CPU µs/request (all processes) | req/s per core of gateway CPU |
|---|---|---|---|
| 1 process, Redis limits, pinned (load side on the other core) | ${fmt(maxRps(one), 0)} | ${fmt(cpu1, 0)} | ${fmt(1e6 / cpu1, 0)} |
${cpu2 !== undefined ? `| \`--workers 2\`, Redis limits, both cores (shared with the load side) | ${fmt(maxRps(two), 0)} | ${fmt(cpu2, 0)} | ${fmt(1e6 / cpu2, 0)} |\n` : ''}
Workers share nothing but the listening socket and Redis, so what one request costs is what sizes a fleet${cpu2 !== undefined ? `: through \`--workers 2\` a request cost ${fmt(cpu2 / cpu1, 2)}× the CPU of the single pinned process (the two workers share both cores with the load generator, mock, collector and Redis, and that contention shows in the CPU per request too)` : ''}. On a machine with N cores free for the gateway, \`--workers auto\` serves about N × ${fmt(1e6 / cpu1, 0)} req/s (the pinned figure)${cpu2 !== undefined ? `, or N × ${fmt(1e6 / cpu2, 0)} at the two-worker figure` : ''}. This machine has two cores, one of which the load side needs, so the two-worker row cannot show the scaling in req/s; the CPU time per request can.
`);
  }
  return parts.length ? `${parts.join('\n')}\n` : '';
}

function reading(run: RunResult, by: (id: RowResult['id']) => RowResult | undefined): string {
  const lines: string[] = [];
  const full = maxRps(by('gatehouse-full'));
  const bare = maxRps(by('gatehouse-bare'));
  const minimal = maxRps(by('minimal'));
  const direct = maxRps(by('direct'));
  if (Number.isFinite(full) && Number.isFinite(minimal)) {
    lines.push(`- One gateway process: the full pipeline serves ${fmt(full, 0)} req/s, ${fmt((full / minimal) * 100, 0)}% of what a bare node:http + undici hop manages (${fmt(minimal, 0)} req/s); the bare gateway ${fmt(bare, 0)} req/s. Policy, limits and the audit spool together cost ${fmt((1 - full / bare) * 100, 0)}% of the bare gateway's throughput.`);
  }
  if (Number.isFinite(direct)) lines.push(`- The mock alone answers ${fmt(direct, 0)} req/s on the same core, so every proxy row is bound by the proxy, not the upstream.`);
  const c64 = by('gatehouse-full')?.c64?.coreBusy;
  if (c64 && c64.length > 1) lines.push(`- During the full pipeline's 64-connection run the gateway core was ${fmt((c64.at(-1) ?? 0) * 100, 0)}% busy and the load-side core ${fmt((c64[0] ?? 0) * 100, 0)}%.`);
  for (const id of ['portkey', 'litellm'] as const) {
    const row = by(id);
    if (row?.unavailable) lines.push(`- ${row.label}: ${row.unavailable}.`);
    else if (Number.isFinite(maxRps(row)) && Number.isFinite(full)) lines.push(`- ${row!.label}: ${fmt(maxRps(row), 0)} req/s; Gatehouse's full pipeline does ${fmt(full / maxRps(row), 1)}× that.`);
  }
  const workers = by('gatehouse-workers');
  if (workers && Number.isFinite(maxRps(workers))) lines.push(`- \`--workers 2\` on ${run.machine.nproc} cores: ${fmt(maxRps(workers), 0)} req/s, sharing the cores with the load generator, mock and collector.`);
  const missed = run.targets.filter((t) => t.met === false);
  lines.push(missed.length ? `- Missed: ${missed.map((t) => t.goal).join('; ')}. See the measured values above.` : '- Every measured target was met in this run.');
  return lines.join('\n');
}
