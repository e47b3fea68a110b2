/**
 * The embedded default: what `gatehouse start` runs with no config file. One
 * process, a data directory, the simulated provider (or the real ones when their
 * API keys are in the environment), and a demo key kept in `<dataDir>/demo-key`
 * so it stays the same across restarts. Started from a checkout, it also serves
 * the example prompt registry in ./prompts.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { generateKey, hashKey } from '../identity/keyHash.js';
import type { ConfigInput } from './schema.js';

export interface EmbeddedDefault {
  config: ConfigInput;
  demoKey: string;
  demoKeyFile: string;
}

export async function embeddedDefault(dataDir: string, env: NodeJS.ProcessEnv = process.env, options: { persist?: boolean } = {}): Promise<EmbeddedDefault> {
  const demoKeyFile = join(dataDir, 'demo-key');
  // `persist: false` (gatehouse readiness): look, never write; an ephemeral demo key stands in when none exists.
  const persist = options.persist !== false;
  if (persist) await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const demoKey = persist ? await readOrCreateKey(demoKeyFile) : await readFile(demoKeyFile, 'utf8').then((k) => k.trim() || generateKey(), () => generateKey());
  const openai = Boolean(env.OPENAI_API_KEY);
  const anthropic = Boolean(env.ANTHROPIC_API_KEY);
  const gpt = (model: string) => ({ targets: [{ provider: openai ? 'openai' : 'simulated', model }] });
  const claude = (model: string) => ({ targets: [{ provider: anthropic ? 'anthropic' : 'simulated', model }] });
  const config: ConfigInput = {
    dataDir,
    providers: {
      simulated: { type: 'simulated', latencyMs: 20, tokensPerSecond: 200 },
      ...(openai ? { openai: { type: 'openai', apiKey: '${OPENAI_API_KEY}' } } : {}),
      ...(anthropic ? { anthropic: { type: 'anthropic', apiKey: '${ANTHROPIC_API_KEY}' } } : {}),
    },
    models: {
      'gpt-4o-mini': gpt('gpt-4o-mini'),
      'gpt-4o': gpt('gpt-4o'),
      'claude-sonnet-4-5': claude('claude-sonnet-4-5'),
      'claude-haiku-4-5': claude('claude-haiku-4-5'),
      'text-embedding-3-small': { kind: 'embeddings', targets: [{ provider: openai ? 'openai' : 'simulated', model: 'text-embedding-3-small' }] },
    },
    // The repository's example prompt registry, when started from a checkout (docs/prompts.md).
    ...(existsSync(resolve('prompts', 'labels.yaml')) ? { prompts: { dir: resolve('prompts') } } : {}),
    keys: [
      {
        id: 'demo',
        hash: hashKey(demoKey),
        tenant: 'demo',
        team: 'platform',
        user: 'demo-user',
        allowHeaders: ['user', 'feature'],
      },
    ],
  };
  return { config, demoKey, demoKeyFile };
}

async function readOrCreateKey(file: string): Promise<string> {
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = generateKey();
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return key;
}
