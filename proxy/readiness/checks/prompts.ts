/**
 * Prompt version tracking: every production call path pins or records a prompt
 * version. Judged from the audit store (the last 7 days): keys whose chat
 * requests carried no prompt version are listed.
 */
import type { AuditDatabase } from '../../../collector/store/auditDatabase.js';
import { listed, pass, warn, type CheckResult } from '../check.js';

const ID = 'prompts.tracking';
const TITLE = 'every call path records its prompt version';
const WINDOW_DAYS = 7;

export async function checkPromptTracking(db: AuditDatabase | undefined, now = Date.now()): Promise<CheckResult> {
  if (db === undefined) return warn(ID, TITLE, 'no audit store here to judge traffic by', 'run readiness with the config whose dataDir holds the audit store (audit.duckdb), after some traffic, with the collector stopped or split out');
  const since = (now - WINDOW_DAYS * 86_400_000) * 1000;
  const rows = await db.query(
    `SELECT key_id, count(*) AS calls, count(*) FILTER (WHERE prompt_version IS NULL) AS untracked
       FROM audit_records
      WHERE record_type = 'request' AND gen_ai_operation_name = 'chat' AND start_time >= make_timestamp($1::BIGINT) AND key_id IS NOT NULL
      GROUP BY ALL ORDER BY key_id`,
    [since],
  );
  if (rows.length === 0) return warn(ID, TITLE, `no chat requests in the last ${WINDOW_DAYS} days to judge by`, 'send traffic (or run after a pilot week)');
  const untracked = rows.filter((r) => Number(r.untracked) > 0).map((r) => `${String(r.key_id)} (${String(r.untracked)} of ${String(r.calls)})`);
  if (untracked.length > 0) {
    return warn(ID, TITLE, `chat requests without a prompt version in the last ${WINDOW_DAYS} days, by key: ${listed(untracked)}`, 'render prompts from the registry (gatehouse_prompt / x-gatehouse-prompt), or send x-gatehouse-prompt-id and -version (docs/prompts.md)');
  }
  return pass(ID, TITLE, `${rows.length} key(s) with chat traffic, every request with a prompt version`);
}
