/**
 * Tells approvers that a call waits for them: one POST per new pending approval
 * to `approvals.webhook.url`, as JSON that a Slack incoming webhook shows as is
 * (`text`), with the approval's facts under `approval` for other integrations.
 * Retried with backoff on a network error, a 5xx or a 429 (up to `attempts`);
 * never blocks the tool call. The arguments are sent only with
 * `includeArguments: true`: a chat channel is rarely the place for them.
 */
import { log } from '../log.js';
import { approversOf, type Approval } from './approval.js';

export interface WebhookConfig {
  url: string;
  headers: Record<string, string>;
  attempts: number;
  timeoutMs: number;
  includeArguments: boolean;
}

const MAX_IN_FLIGHT = 1_000;
const MAX_BACKOFF_MS = 30_000;

/** Slack's control characters, escaped: a user or tool name cannot turn into a link or a mention. */
function plain(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export class ApprovalWebhook {
  private inFlight = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly config: WebhookConfig, private readonly approveUrl: (id: string) => string) {}

  /** The message for one approval. */
  body(approval: Approval): Record<string, unknown> {
    const b = approval.binding;
    const who = [b.user, b.agent ? `agent ${b.agent}` : undefined].filter(Boolean).join(', ') || `key ${b.key_id}`;
    const needs = `${approval.required} approval${approval.required === 1 ? '' : 's'}${approval.groups.length > 0 ? ` from ${approval.groups.join(' or ')}` : ''}`;
    return {
      text: `Approval needed: ${plain(b.tool)} for ${plain(who)} (tenant ${plain(b.tenant)}). ${plain(approval.reason)} Needs ${plain(needs)}, by ${new Date(approval.expires_at).toISOString()}. Approve or deny: ${this.approveUrl(approval.id)} (gatehouse approvals show ${approval.id})`,
      approval: {
        id: approval.id, status: approval.status, tenant: b.tenant, key_id: b.key_id, user: b.user ?? null, agent: b.agent ?? null,
        server: b.server, tool: b.tool, arguments_sha256: b.arguments_sha256, policy_revision: b.policy_revision,
        required: approval.required, groups: approval.groups, approvers: approval.approvers ?? null, approved_by: approversOf(approval),
        reason: approval.reason, created_at: new Date(approval.created_at).toISOString(), expires_at: new Date(approval.expires_at).toISOString(),
        url: this.approveUrl(approval.id),
        ...(this.config.includeArguments ? { arguments: approval.arguments } : {}),
      },
    };
  }

  notify(approval: Approval): void {
    if (this.stopped) return;
    if (this.inFlight >= MAX_IN_FLIGHT) {
      log.warn('approval webhook: too many notifications in flight; this one is dropped', { approval: approval.id });
      return;
    }
    this.inFlight++;
    void this.send(JSON.stringify(this.body(approval)), approval.id, 1);
  }

  private async send(payload: string, id: string, attempt: number): Promise<void> {
    let retry: boolean;
    let why: string;
    try {
      const response = await fetch(this.config.url, {
        method: 'POST', body: payload, signal: AbortSignal.timeout(this.config.timeoutMs),
        headers: { ...this.config.headers, 'content-type': 'application/json' },
      });
      await response.body?.cancel().catch(() => undefined);
      if (response.ok) {
        this.inFlight--;
        return;
      }
      retry = response.status >= 500 || response.status === 429;
      why = `HTTP ${response.status}`;
    } catch (error) {
      retry = true;
      why = (error as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable';
    }
    if (!retry || attempt >= this.config.attempts || this.stopped) {
      this.inFlight--;
      log.error('approval webhook failed; approvers were not notified', { approval: id, attempts: attempt, why });
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.send(payload, id, attempt + 1);
    }, Math.min(MAX_BACKOFF_MS, 500 * 2 ** (attempt - 1)));
    timer.unref();
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
