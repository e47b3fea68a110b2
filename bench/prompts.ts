/**
 * What rendering a registry prompt costs (`npm run bench:prompts`), against
 * sending the same messages directly, in the same run, interleaved:
 *
 *  - baseline: decode an OpenAI chat body whose messages are already rendered;
 *  - measured: decode the body with `gatehouse_prompt` instead of the system
 *    message, then the prompt stage (resolve the label, check the variables with
 *    Ajv, render with Mustache, apply the parameters).
 *
 * The target (issue 14): at most 20 µs p50 added.
 */
import { interleaved as interleavedRounds } from './lib/interleaved.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cp } from 'node:fs/promises';
import type { RequestContext } from '../proxy/pipeline/context.js';
import type { PipelineDeps } from '../proxy/pipeline/deps.js';
import { renderPrompt } from '../proxy/prompts/promptStage.js';
import { PromptRegistry } from '../proxy/prompts/registry.js';
import { openaiWire } from '../proxy/wire/openai/index.js';
import { REPO_DIR } from './lib/gatehouseSetup.js';

const QUICK = process.argv.includes('--quick');
const ITERATIONS = QUICK ? 20_000 : 100_000;
const ROUNDS = 7;

const interleaved = (runs: Array<() => unknown>): Promise<number[]> => interleavedRounds(runs, ITERATIONS, ROUNDS);

const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-prompts-'));
try {
  await cp(join(REPO_DIR, 'prompts'), dir, { recursive: true });
  const registry = new PromptRegistry({ dir, watch: false });
  await registry.start();
  const variables = { client_name: 'Ada Lovelace', risk_profile: 'balanced' };
  const version = registry.current.version('advisor', registry.current.label('advisor', 'production')!)!;
  const system = version.content.messages[0]!.content.replace('{{client_name}}', variables.client_name).replace('{{risk_profile}}', variables.risk_profile);
  const user = { role: 'user', content: 'How is my portfolio split between equities and bonds, and why?' };
  const direct = { model: 'gpt-4o-mini', temperature: 0.2, max_tokens: 512, messages: [{ role: 'system', content: system }, user] };
  const viaPrompt = { model: 'gpt-4o-mini', messages: [user], gatehouse_prompt: { id: 'advisor', variables } };
  const deps = { prompts: registry } as unknown as PipelineDeps;
  const ctx = { headers: {} } as unknown as RequestContext;
  // Each side decodes a fresh copy of its body, as the gateway decodes a freshly parsed body.
  const directText = JSON.stringify(direct);
  const promptText = JSON.stringify(viaPrompt);
  const [baseline = 0, rendered = 0] = await interleaved([
    () => openaiWire.decodeChat(JSON.parse(directText)),
    () => renderPrompt(ctx, deps, openaiWire.decodeChat(JSON.parse(promptText))),
  ]);
  const added = rendered - baseline;
  console.log(`\n\`npm run bench:prompts\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, p50 of ${ROUNDS} interleaved rounds, ${ITERATIONS} runs each side):\n`);
  console.log('| path | p50 |');
  console.log('|---|---|');
  console.log(`| parse + decode, the messages sent directly (baseline) | ${baseline.toFixed(2)} µs |`);
  console.log(`| parse + decode + the prompt stage (label, Ajv variables, Mustache render, parameters) | ${rendered.toFixed(2)} µs |`);
  console.log(`\nAdded by rendering: ${added.toFixed(2)} µs p50, ${(rendered / baseline).toFixed(2)}x (target ≤ 20 µs: ${added <= 20 ? 'met' : 'missed'}).`);
  registry.shutdown();
} finally {
  await rm(dir, { recursive: true, force: true });
}
