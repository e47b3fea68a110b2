/**
 * policies/testdata/corpus.json (what `opa test` judges) must be what
 * corpus.yaml and today's normalizer give: a stale file would test the packs
 * against normalized forms the proxy no longer produces.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCorpus } from '../../scripts/build-corpus.js';
import { REPO_ROOT } from '../support/policyFixture.js';

describe('the guardrail corpus', () => {
  it('corpus.json is up to date with corpus.yaml and the normalizer (npm run policies:corpus)', async () => {
    const committed = await readFile(join(REPO_ROOT, 'policies', 'testdata', 'corpus.json'), 'utf8');
    expect(committed).toBe(await buildCorpus());
  });
});
