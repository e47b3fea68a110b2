/**
 * Approvals in Redis, for several replicas (docs/approvals.md, "State"). Keys,
 * under the limits key prefix:
 *
 *   approval:<id>             the approval, as JSON (expires KEEP_ENDED_MS after its own expiry)
 *   approval-binding:<sha>    the id of the binding's current approval
 *   approvals:<tenant>        sorted set of the tenant's ids by creation time
 *   approvals-open            sorted set of ids not ended yet, by expiry (for the expiry sweep)
 *   approvals-open:<tenant>   the same for one tenant, and approvals-open:<tenant>/<key> for one key (the caps)
 *
 * `open` is one Lua script (merge or create); every other change is a
 * compare-and-set of the approval's JSON, so a step computed from a stale copy
 * never lands: exactly one replica uses an approved call, records an expiry, or
 * adds the approval that completes a quorum.
 */
import type { Redis } from 'ioredis';
import { LuaScript } from '../limits/luaScript.js';
import { closeShared, connectShared } from '../limits/sharedRedis.js';
import { effectiveStatus, type Approval, type ApprovalStatus } from './approval.js';
import { KEEP_ENDED_MS, type ApprovalStore } from './store.js';
import type { Step } from './transitions.js';

const OPEN_LUA = `
local current = redis.call('GET', KEYS[1])
if current then
  local raw = redis.call('GET', ARGV[1] .. 'approval:' .. current)
  if raw then
    local a = cjson.decode(raw)
    if (a.status == 'pending' or a.status == 'approved') and tonumber(ARGV[4]) < a.expires_at then return {0, raw} end
  end
end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[5])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[7], ARGV[2])
redis.call('ZADD', KEYS[5], ARGV[7], ARGV[2])
redis.call('ZADD', KEYS[6], ARGV[7], ARGV[2])
return {1, ARGV[3]}
`;

const CAS_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
if ARGV[3] == '1' then
  redis.call('ZREM', KEYS[2], ARGV[4])
  redis.call('ZREM', KEYS[3], ARGV[4])
  redis.call('ZREM', KEYS[4], ARGV[4])
end
return 1
`;

const MAX_CAS_RETRIES = 20;

export class RedisApprovalStore implements ApprovalStore {
  private readonly openScript = new LuaScript(OPEN_LUA);
  private readonly casScript = new LuaScript(CAS_LUA);

  constructor(private readonly client: Redis, private readonly prefix: string, private readonly onError: (error: unknown) => void) {}

  start(): Promise<void> {
    return connectShared(this.client, this.onError);
  }

  shutdown(): Promise<void> {
    return closeShared(this.client);
  }

  private key(id: string): string {
    return `${this.prefix}approval:${id}`;
  }

  async get(id: string): Promise<Approval | undefined> {
    const raw = await this.client.get(this.key(id));
    return raw === null ? undefined : (JSON.parse(raw) as Approval);
  }

  async current(bindingSha256: string): Promise<Approval | undefined> {
    const id = await this.client.get(`${this.prefix}approval-binding:${bindingSha256}`);
    return id === null ? undefined : this.get(id);
  }

  async open(candidate: Approval, now: number): Promise<{ approval: Approval; created: boolean }> {
    const ttl = Math.max(1, candidate.expires_at - now) + KEEP_ENDED_MS;
    const [created, raw] = await this.openScript.run(this.client, [
      `${this.prefix}approval-binding:${candidate.binding_sha256}`, this.key(candidate.id), `${this.prefix}approvals:${candidate.binding.tenant}`, `${this.prefix}approvals-open`,
      ...this.openSets(candidate.binding.tenant, candidate.binding.key_id),
    ], [this.prefix, candidate.id, JSON.stringify(candidate), now, ttl, candidate.created_at, candidate.expires_at]) as [number, string];
    return { approval: JSON.parse(raw) as Approval, created: Number(created) === 1 };
  }

  private openSets(tenant: string, keyId: string): [string, string] {
    return [`${this.prefix}approvals-open:${tenant}`, `${this.prefix}approvals-open:${tenant}/${keyId}`];
  }

  async update(id: string, step: (approval: Approval) => Step): Promise<Step | undefined> {
    for (let attempt = 0; attempt < MAX_CAS_RETRIES; attempt++) {
      const raw = await this.client.get(this.key(id));
      if (raw === null) {
        // Gone (forgotten, or evicted): never due again.
        await this.client.zrem(`${this.prefix}approvals-open`, id);
        return undefined;
      }
      const current = JSON.parse(raw) as Approval;
      const result = step(current);
      if (!result.ok) return result;
      const ended = result.approval.status !== 'pending' && result.approval.status !== 'approved';
      const swapped = await this.casScript.run(this.client, [this.key(id), `${this.prefix}approvals-open`, ...this.openSets(current.binding.tenant, current.binding.key_id)], [raw, JSON.stringify(result.approval), ended ? '1' : '0', id]);
      if (Number(swapped) === 1) return result;
    }
    throw new Error(`approval ${id}: too many concurrent changes`);
  }

  async list(tenant: string, status: ApprovalStatus | undefined, limit: number, now: number): Promise<Approval[]> {
    const index = `${this.prefix}approvals:${tenant}`;
    const out: Approval[] = [];
    // Newest first, in pages; ids whose approval has been forgotten are dropped from the index.
    for (let start = 0; out.length < limit; start += 200) {
      const ids = await this.client.zrevrange(index, start, start + 199);
      if (ids.length === 0) break;
      const raws = await this.client.mget(ids.map((id) => this.key(id)));
      const gone: string[] = [];
      raws.forEach((raw, i) => {
        if (raw === null) return void gone.push(ids[i]!);
        const approval = JSON.parse(raw) as Approval;
        if (status === undefined || effectiveStatus(approval, now) === status) out.push(approval);
      });
      if (gone.length > 0) await this.client.zrem(index, ...gone);
    }
    return out.slice(0, limit);
  }

  async live(tenant: string, keyId: string, now: number): Promise<{ tenant: number; key: number }> {
    const [tenantSet, keySet] = this.openSets(tenant, keyId);
    const [t, k] = await Promise.all([this.client.zcount(tenantSet, `(${now}`, '+inf'), this.client.zcount(keySet, `(${now}`, '+inf')]);
    return { tenant: t, key: k };
  }

  async due(now: number): Promise<string[]> {
    return this.client.zrangebyscore(`${this.prefix}approvals-open`, '-inf', now, 'LIMIT', 0, 1000);
  }
}
