/**
 * cost_daily (collector/rollups/costDaily.ts): for every dimension, the daily
 * per-key measures equal the same sums taken straight from the records, after
 * ingest and after the table is rebuilt from the hourly rollups of a store made
 * before it existed; folding is exactly once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { A } from '../../proxy/telemetry/attributes.js';
import type { RunningCollector } from '../../collector/cli/index.js';
import { ROLLUP_SQL } from '../../collector/rollups/costRollups.js';
import { DAILY_DIMENSIONS } from '../../collector/rollups/costDaily.js';
import { AuditDatabase } from '../../collector/store/auditDatabase.js';
import { auditSpan, makeTempDir, postJson, removeDir, startTestCollector } from './support.js';

const FROM_RECORDS = (dimension: string) => `
  SELECT CAST(start_time AS DATE)::VARCHAR AS day, ${ROLLUP_SQL.tenant_id} AS tenant_id, ${ROLLUP_SQL[dimension as 'team_id']} AS key,
         count(*) AS requests, ${ROLLUP_SQL.input_tokens} AS input_tokens, ${ROLLUP_SQL.cost_usd}::VARCHAR AS cost_usd,
         ${ROLLUP_SQL.errors} AS errors, ${ROLLUP_SQL.policy_denials} AS policy_denials
    FROM audit_records WHERE record_type = 'request' GROUP BY ALL ORDER BY ALL`;
const FROM_DAILY = (dimension: string) => `
  SELECT day::VARCHAR AS day, tenant_id, key, requests, input_tokens, cost_usd::VARCHAR AS cost_usd, errors, policy_denials
    FROM cost_daily WHERE dimension = '${dimension}' ORDER BY ALL`;

async function compare(db: AuditDatabase): Promise<void> {
  for (const dimension of DAILY_DIMENSIONS) {
    const daily = await db.query(FROM_DAILY(dimension));
    expect(daily.length, dimension).toBeGreaterThan(0);
    expect(daily, dimension).toEqual(await db.query(FROM_RECORDS(dimension)));
  }
}

describe('daily cost per dimension', () => {
  let dir: string;
  let collector: RunningCollector | undefined;
  beforeEach(async () => {
    dir = await makeTempDir();
    collector = await startTestCollector({ dataDir: dir, port: 0 });
  });
  afterEach(async () => {
    await collector?.stop();
    await removeDir(dir);
  });

  it('matches the records for every dimension, across days, tenants and outcomes, and is rebuilt from the hourly rollups', async () => {
    const spans = Array.from({ length: 60 }, (_, i) => auditSpan({
      [A.tenant]: ['acme', 'globex'][i % 2]!, [A.team]: `team-${i % 3}`, [A.user]: `user-${i % 7}`, [A.agent]: i % 4 === 0 ? '' : `agent-${i % 2}`,
      [A.responseModel]: ['gpt-4o', 'claude-sonnet-4-5', 'o3'][i % 3]!, [A.promptVersion]: String(i % 2), [A.costUsd]: 0.000123 * (i + 1),
      [A.inputTokens]: 10 + i, [A.outcome]: i % 10 === 0 ? 'error' : i % 10 === 1 ? 'denied' : 'ok',
    }, { startMs: Date.UTC(2026, 0, 1 + (i % 3), (i * 5) % 24) }));
    for (let i = 0; i < spans.length; i += 20) {
      expect((await postJson(collector!.tracesUrl, spans.slice(i, i + 20))).status).toBe(200);
      // Folded behind ingest, in steps; a fold with nothing new adds nothing.
      if (i === 20) await collector!.store.writer!.foldDaily();
    }
    const writer = collector!.store.writer!;
    expect(await writer.foldDaily()).toBe(writer.lastSeq);
    expect(await writer.foldDaily()).toBe(writer.lastSeq);
    await compare(collector!.store.db);

    // A store from before cost_daily: the table is derived from the hourly rollups when the store is opened.
    await collector!.store.db.connection.run('DROP TABLE cost_daily');
    await collector!.store.db.connection.run('DROP TABLE cost_daily_state');
    await collector!.stop();
    collector = undefined;
    const reopened = await AuditDatabase.open(`${dir}/audit.duckdb`);
    try {
      await compare(reopened);
      // Marked as folded up to the last record: a later fold adds nothing twice.
      expect(Number((await reopened.query('SELECT seq FROM cost_daily_state'))[0]?.seq)).toBe(60);
      // A backfill interrupted before its mark was written (the table filled, no mark) is done again, not added twice.
      await reopened.connection.run('DELETE FROM cost_daily_state');
    } finally {
      reopened.close();
    }
    const again = await AuditDatabase.open(`${dir}/audit.duckdb`);
    try {
      await compare(again);
    } finally {
      again.close();
    }
  });
});
