/**
 * Where approvals live, shared by every replica through the limit store's backend:
 * a file-backed map for one process (`<dataDir>/approvals.json`, 0600, rewritten
 * atomically on every change, so pending approvals survive a restart), Redis for
 * several (redisStore.ts). Both apply the same steps (transitions.ts).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { effectiveStatus, type Approval, type ApprovalStatus } from './approval.js';
import type { Step } from './transitions.js';

export interface ApprovalStore {
  start(): Promise<void>;
  shutdown(): Promise<void>;
  get(id: string): Promise<Approval | undefined>;
  /**
   * The approval that the binding points at, if any (the latest one asked for
   * this exact call). Undefined once it has ended and been forgotten.
   */
  current(bindingSha256: string): Promise<Approval | undefined>;
  /**
   * Makes `candidate` the binding's current approval, unless the binding already
   * has a live one (pending or approved, not expired), which is returned instead:
   * duplicate requests for the same call merge. Atomic across replicas.
   */
  open(candidate: Approval, now: number): Promise<{ approval: Approval; created: boolean }>;
  /** Applies one step atomically (retried if another replica changed it meanwhile). Undefined: no such approval. */
  update(id: string, step: (approval: Approval) => Step): Promise<Step | undefined>;
  /** A tenant's approvals, newest first. */
  list(tenant: string, status: ApprovalStatus | undefined, limit: number, now: number): Promise<Approval[]>;
  /** Live approvals (pending or approved, not expired) of a tenant, and of one key of it. */
  live(tenant: string, keyId: string, now: number): Promise<{ tenant: number; key: number }>;
  /** Ids of approvals whose expiry has passed and that are not ended yet. */
  due(now: number): Promise<string[]>;
}

/** How long an ended approval stays readable in the store (the audit trail keeps it for good). */
export const KEEP_ENDED_MS = 7 * 86_400_000;

const isLive = (approval: Approval, now: number) => {
  const status = effectiveStatus(approval, now);
  return status === 'pending' || status === 'approved';
};

export class MemoryApprovalStore implements ApprovalStore {
  private approvals = new Map<string, Approval>();
  private bindings = new Map<string, string>();
  /** Changes run one at a time: applied, written, and undone if the write fails. */
  private changes: Promise<unknown> = Promise.resolve();

  constructor(private readonly file?: string) {}

  async start(): Promise<void> {
    if (this.file === undefined) return;
    try {
      const saved = JSON.parse(await readFile(this.file, 'utf8')) as { approvals?: Approval[] };
      for (const approval of saved.approvals ?? []) this.remember(approval);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${this.file}: cannot read the approvals: ${(error as Error).message}`);
    }
  }

  async shutdown(): Promise<void> {
    await this.changes.catch(() => undefined);
  }

  private remember(approval: Approval): void {
    this.approvals.set(approval.id, approval);
    this.bindings.set(approval.binding_sha256, approval.id);
  }

  async get(id: string): Promise<Approval | undefined> {
    return this.approvals.get(id);
  }

  async current(bindingSha256: string): Promise<Approval | undefined> {
    const id = this.bindings.get(bindingSha256);
    return id === undefined ? undefined : this.approvals.get(id);
  }

  open(candidate: Approval, now: number): Promise<{ approval: Approval; created: boolean }> {
    return this.exclusive(async () => {
      const existing = await this.current(candidate.binding_sha256);
      if (existing !== undefined && isLive(existing, now)) return { approval: existing, created: false };
      this.prune(now);
      const previousBinding = this.bindings.get(candidate.binding_sha256);
      this.remember(candidate);
      try {
        await this.save();
      } catch (error) {
        this.approvals.delete(candidate.id);
        if (previousBinding === undefined) this.bindings.delete(candidate.binding_sha256);
        else this.bindings.set(candidate.binding_sha256, previousBinding);
        throw error;
      }
      return { approval: candidate, created: true };
    });
  }

  update(id: string, step: (approval: Approval) => Step): Promise<Step | undefined> {
    return this.exclusive(async () => {
      const approval = this.approvals.get(id);
      if (approval === undefined) return undefined;
      const result = step(approval);
      if (!result.ok) return result;
      this.approvals.set(id, result.approval);
      try {
        await this.save();
      } catch (error) {
        this.approvals.set(id, approval);
        throw error;
      }
      return result;
    });
  }

  async list(tenant: string, status: ApprovalStatus | undefined, limit: number, now: number): Promise<Approval[]> {
    const out: Approval[] = [];
    for (const approval of this.approvals.values()) {
      if (approval.binding.tenant !== tenant) continue;
      if (status !== undefined && effectiveStatus(approval, now) !== status) continue;
      out.push(approval);
    }
    return out.sort((a, b) => b.created_at - a.created_at).slice(0, limit);
  }

  async live(tenant: string, keyId: string, now: number): Promise<{ tenant: number; key: number }> {
    const count = { tenant: 0, key: 0 };
    for (const approval of this.approvals.values()) {
      if (approval.binding.tenant !== tenant || !isLive(approval, now)) continue;
      count.tenant++;
      if (approval.binding.key_id === keyId) count.key++;
    }
    return count;
  }

  async due(now: number): Promise<string[]> {
    const out: string[] = [];
    for (const approval of this.approvals.values()) {
      if ((approval.status === 'pending' || approval.status === 'approved') && now >= approval.expires_at) out.push(approval.id);
    }
    return out;
  }

  /** Forgets approvals that ended (or expired) more than KEEP_ENDED_MS ago. */
  private prune(now: number): void {
    for (const [id, approval] of this.approvals) {
      if (isLive(approval, now) || now - Math.max(approval.expires_at, approval.used_at ?? 0) < KEEP_ENDED_MS) continue;
      this.approvals.delete(id);
      if (this.bindings.get(approval.binding_sha256) === id) this.bindings.delete(approval.binding_sha256);
    }
  }

  private exclusive<T>(change: () => Promise<T>): Promise<T> {
    const run = this.changes.catch(() => undefined).then(change);
    this.changes = run;
    return run;
  }

  /** Writes every approval to the file (0600), atomically: a temporary file renamed over it. */
  private async save(): Promise<void> {
    const file = this.file;
    if (file === undefined) return;
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify({ approvals: [...this.approvals.values()] })}\n`, { mode: 0o600 });
    await rename(temp, file);
  }
}
