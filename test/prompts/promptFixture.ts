/**
 * A scratch prompt registry for tests: versions written as YAML, released into
 * versions.lock exactly as `gatehouse prompts lock` does, and labels that a test
 * moves (a deploy) and moves back (a rollback).
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify, parse } from 'yaml';
import { contentHash } from '../../proxy/prompts/check.js';

export interface PromptFixture {
  readonly dir: string;
  /** Writes version N of a prompt and releases it. */
  release(id: string, version: number, content: Record<string, unknown>): Promise<void>;
  setLabels(labels: Record<string, Record<string, number>>): Promise<void>;
  remove(): Promise<void>;
}

export async function createPromptFixture(): Promise<PromptFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-prompts-'));
  const lockFile = join(dir, 'versions.lock');
  await writeFile(lockFile, '{}\n');
  return {
    dir,
    async release(id, version, content) {
      await mkdir(join(dir, id), { recursive: true });
      const text = stringify(content);
      await writeFile(join(dir, id, `${version}.yaml`), text);
      const lock = JSON.parse(await readFile(lockFile, 'utf8')) as Record<string, Record<string, string>>;
      (lock[id] ??= {})[String(version)] = contentHash(parse(text));
      await writeFile(lockFile, JSON.stringify(lock, null, 2));
    },
    async setLabels(labels) {
      await writeFile(join(dir, 'labels.yaml'), stringify(labels));
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export function advisorVersion(system: string, temperature: number): Record<string, unknown> {
  return {
    parameters: { temperature, max_tokens: 256 },
    variables: {
      type: 'object',
      properties: { client_name: { type: 'string', minLength: 1 }, risk_profile: { type: 'string', enum: ['conservative', 'balanced', 'growth'] } },
      required: ['client_name', 'risk_profile'],
    },
    messages: [{ role: 'system', content: system }],
  };
}

export const V1 = 'Assistant for {{client_name}} ({{risk_profile}}). Explain allocations factually.';
export const V2 = 'Warm assistant for {{client_name}} ({{risk_profile}}). Do not discuss allocations.';
