/**
 * `gatehouse readiness [--config FILE] [--format table|json|junit] [--out FILE]`
 * (docs/readiness.md): checks a deployment as it would run, and exits 1 when any
 * check fails (0 otherwise; 2 for a usage error).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { asJson, asJunit, asTable, summary } from '../readiness/report.js';
import { runReadiness } from '../readiness/run.js';

const FORMATS = ['table', 'json', 'junit'] as const;

export async function readinessCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, options: { config: { type: 'string', short: 'c' }, format: { type: 'string' }, out: { type: 'string' } } }));
  } catch (error) {
    process.stderr.write(`usage error: ${(error as Error).message}\nusage: gatehouse readiness [--config FILE] [--format table|json|junit] [--out FILE]\n`);
    return 2;
  }
  const format = values.format ?? 'table';
  if (!(FORMATS as readonly string[]).includes(format)) {
    process.stderr.write(`usage error: --format: one of ${FORMATS.join(', ')}\n`);
    return 2;
  }
  const { shellIO } = await import('../../collector/cli/commandIO.js');
  const { dirname } = await import('node:path');
  // The audit store, read-only (a running embedded collector holds it: then the prompt check says it has nothing to judge by).
  const openStore = (dbFile: string) => shellIO().store({ dataDir: dirname(dbFile), dbFile }, 'read');
  const results = await runReadiness({ ...(values.config !== undefined ? { config: values.config } : {}), openStore });
  const text = format === 'json' ? asJson(results) : format === 'junit' ? asJunit(results) : asTable(results);
  if (values.out !== undefined) {
    await writeFile(values.out, text.endsWith('\n') ? text : `${text}\n`);
    process.stdout.write(`${asTable(results).split('\n').pop()}\n`);
  } else {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
  return summary(results).fail > 0 ? 1 : 0;
}
