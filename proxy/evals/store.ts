/**
 * Every eval run is stored in the audit store (`<dataDir>/audit.duckdb`, table
 * `eval_runs`), with the prompt version and its content hash, so "was this
 * version evaluated before it went to production, and how did it score?" is one
 * query, and a request's audit record joins its prompt version's runs by
 * `prompt_sha256`. A store that a running collector holds is not written (the
 * run is reported, and the command says it was not stored).
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EVAL_RUNS_DDL } from '../../collector/store/schema.js';
import { AuditDatabase } from '../../collector/store/auditDatabase.js';
import type { EvalReport } from './report.js';

export async function storeRun(dbFile: string, report: EvalReport, dataset: { file: string; sha256: string }, startedAt: number): Promise<string> {
  await mkdir(dirname(dbFile), { recursive: true, mode: 0o700 });
  const db = await AuditDatabase.open(dbFile);
  try {
    const runId = randomUUID();
    await db.query(EVAL_RUNS_DDL);
    await db.query(
      `INSERT INTO eval_runs VALUES ($1, make_timestamp($2::BIGINT), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
        runId, startedAt * 1000, report.prompt, String(report.candidate.version), report.candidate.sha256,
        report.baseline ? String(report.baseline.version) : null, report.baseline?.sha256 ?? null,
        dataset.file, dataset.sha256, report.gate.candidate.cases, report.gate.candidate.passedCases, report.options.repeat,
        report.gate.pass, report.gate.reason, JSON.stringify(report),
      ],
    );
    return runId;
  } finally {
    db.close();
  }
}
