/**
 * `npm run policies:corpus`: turns policies/testdata/corpus.yaml (the packs'
 * must-block and must-allow texts, edited by hand) into corpus.json, the same
 * entries with the normalized forms the proxy would give the policy
 * (proxy/policy/normalize.ts), which `opa test` reads as data.testdata.
 * `--check` exits 1 when corpus.json is stale (test/policy/corpus.test.ts runs it).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { normalizeText } from '../proxy/policy/normalize.js';

const DIR = join(import.meta.dirname, '..', 'policies', 'testdata');

type Role = 'system' | 'user' | 'assistant' | 'tool';
type Entry = string | { messages: Array<{ role: Role; text: string }> };

function message(role: Role, text: string) {
  return { role, source: 'caller', text, normalized: normalizeText(text) };
}

/** The corpus as opa test reads it. */
export async function buildCorpus(): Promise<string> {
  const source = parse(await readFile(join(DIR, 'corpus.yaml'), 'utf8')) as {
    finance: { block: string[]; allow: string[] };
    injection: { block: Entry[]; allow: Entry[] };
  };
  const answer = (text: string) => ({ text, normalized: normalizeText(text) });
  const request = (entry: Entry) => ({
    messages: typeof entry === 'string' ? [message('user', entry)] : entry.messages.map((m) => message(m.role, m.text)),
  });
  const corpus = {
    corpus: {
      finance: { block: source.finance.block.map(answer), allow: source.finance.allow.map(answer) },
      injection: { block: source.injection.block.map(request), allow: source.injection.allow.map(request) },
    },
  };
  return `${JSON.stringify(corpus, null, 1)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = await buildCorpus();
  const file = join(DIR, 'corpus.json');
  if (process.argv.includes('--check')) {
    const current = await readFile(file, 'utf8').catch(() => '');
    if (current !== text) {
      console.error(`${file} is stale: run npm run policies:corpus`);
      process.exit(1);
    }
  } else {
    await writeFile(file, text);
    console.log(`wrote ${file}`);
  }
}
