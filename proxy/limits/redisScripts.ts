/**
 * The Redis store's Lua scripts. Each runs atomically on the server, so one
 * reserve checks and reserves across every scope's keys, or touches nothing.
 *
 * Keys, for a limit scope `s:k` and prefix P:
 * - `P wr:s:k`  sorted set, one member `<reservation id>|<tokens>` per admitted request, score = ms;
 * - `P wt:s:k`  the sum of the tokens in that set;
 * - `P bd:YYYY-MM-DD:s:k` / `P bm:YYYY-MM:s:k`  hash {t: tokens, p: pico-USD (integer)} of a budget period.
 *   A hash from an earlier version with a float `u` (USD) is converted to `p` the first time a script touches it.
 * Window keys expire 2 windows after their last write; budget keys a day after their period ends.
 */

/** Drops entries at or before `cutoff` from a window and their tokens from its sum. */
const EVICT = `
local function evict(z, s, cutoff)
  local old = redis.call('ZRANGEBYSCORE', z, '-inf', cutoff)
  if #old == 0 then return end
  local freed = 0
  for i = 1, #old do freed = freed + tonumber(string.match(old[i], '|(%d+)$')) end
  redis.call('ZREMRANGEBYSCORE', z, '-inf', cutoff)
  redis.call('DECRBY', s, freed)
end
local function oldest(z)
  local first = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
  if #first == 0 then return -1 end
  return tonumber(first[2])
end
`;

/**
 * Exact money in Lua: Redis Lua numbers are doubles, so pico-USD amounts stay
 * integer text. HINCRBY adds them exactly (64-bit: up to about 9.2 million USD
 * per scope and period), and atLeast compares two of them as integers. picoOf
 * reads a hash's amount, converting an earlier version's float `u` once.
 */
const PICO = `
local function atLeast(a, b)
  local an, bn = string.sub(a, 1, 1) == '-', string.sub(b, 1, 1) == '-'
  if an ~= bn then return bn end
  if an then a, b = string.sub(b, 2), string.sub(a, 2) end
  if #a ~= #b then return #a > #b end
  return a >= b
end
local function picoOf(h)
  local legacy = redis.call('HGET', h, 'u')
  if legacy then
    local v = math.floor((tonumber(legacy) or 0) * 1e12 + 0.5)
    if v > 9e18 then v = 9e18 end
    if v >= 1 then redis.call('HINCRBY', h, 'p', string.format('%.0f', v)) end
    redis.call('HDEL', h, 'u')
  end
  return redis.call('HGET', h, 'p') or '0'
end
`;

/**
 * KEYS: per limit (window set, token sum), then per budget (day hash, month hash).
 * ARGV: now, window, member, tokens, pico-USD, nLimits, nBudgets, dayExpireAt, monthExpireAt,
 *       per limit (rpm, tpm), per budget (usdPerMonth, tokensPerMonth, usdPerDay, tokensPerDay: USD as pico-USD
 *       integer text, compared exactly as integers); -1 = none.
 * Returns {'ok', per limit: requests, tokens, oldestAt}
 *      or {'budget', budget index, amount index (BUDGET_ORDER, 1-based), spent as string}
 *      or {'rate', limit index, 'requests'|'tokens', wait ms, requests, tokens, oldestAt}.
 */
export const RESERVE_LUA = `${EVICT}
${PICO}
local now = tonumber(ARGV[1])
local win = tonumber(ARGV[2])
local member = ARGV[3]
local est = tonumber(ARGV[4])
local pico = ARGV[5]
local nl = tonumber(ARGV[6])
local nb = tonumber(ARGV[7])
for j = 1, nb do
  local dh, mh = KEYS[2 * nl + 2 * j - 1], KEYS[2 * nl + 2 * j]
  local spent = { picoOf(mh), redis.call('HGET', mh, 't') or '0', picoOf(dh), redis.call('HGET', dh, 't') or '0' }
  local base = 10 + 2 * nl + 4 * (j - 1)
  for a = 1, 4 do
    local limit = ARGV[base + a - 1]
    if limit ~= '-1' then
      local hit
      if a % 2 == 1 then hit = atLeast(spent[a], limit) else hit = tonumber(spent[a]) >= tonumber(limit) end
      if hit then return { 'budget', j, a, spent[a] } end
    end
  end
end
local counts = {}
for i = 1, nl do
  local z, s = KEYS[2 * i - 1], KEYS[2 * i]
  evict(z, s, now - win)
  local n = redis.call('ZCARD', z)
  local tok = tonumber(redis.call('GET', s) or '0')
  local rpm = tonumber(ARGV[10 + 2 * (i - 1)])
  local tpm = tonumber(ARGV[11 + 2 * (i - 1)])
  if rpm >= 0 and n + 1 > rpm then
    local wait = win
    local k = n - rpm
    if k >= 0 and k < n then
      local e = redis.call('ZRANGE', z, k, k, 'WITHSCORES')
      wait = tonumber(e[2]) + win - now
    end
    return { 'rate', i, 'requests', wait, n, tok, oldest(z) }
  end
  if tpm >= 0 and tok + est > tpm then
    local wait = win
    if est <= tpm then
      local all = redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')
      local excess = tok + est - tpm
      for x = 1, #all, 2 do
        excess = excess - tonumber(string.match(all[x], '|(%d+)$'))
        if excess <= 0 then wait = tonumber(all[x + 1]) + win - now break end
      end
    end
    return { 'rate', i, 'tokens', wait, n, tok, oldest(z) }
  end
  counts[i] = n
end
local out = { 'ok' }
for i = 1, nl do
  local z, s = KEYS[2 * i - 1], KEYS[2 * i]
  redis.call('ZADD', z, now, member)
  local tok = redis.call('INCRBY', s, est)
  redis.call('PEXPIRE', z, 2 * win)
  redis.call('PEXPIRE', s, 2 * win)
  out[#out + 1] = counts[i] + 1
  out[#out + 1] = tok
  out[#out + 1] = oldest(z)
end
for j = 1, nb do
  for p = 1, 2 do
    local h = KEYS[2 * nl + 2 * j - 2 + p]
    redis.call('HINCRBY', h, 't', est)
    if pico ~= '0' then redis.call('HINCRBY', h, 'p', pico) end
    redis.call('PEXPIREAT', h, ARGV[7 + p])
  end
end
return out
`;

/**
 * Settle or release. KEYS as for reserve.
 * ARGV: old member, new member ('' = release: remove the entry), token delta, pico-USD delta (integer text),
 *       nLimits, nBudgets, dayExpireAt, monthExpireAt, window.
 * An entry that already left its window is not touched; budgets always are.
 */
export const SETTLE_LUA = `
${PICO}
local old, new = ARGV[1], ARGV[2]
local dt, dp = tonumber(ARGV[3]), ARGV[4]
local nl, nb = tonumber(ARGV[5]), tonumber(ARGV[6])
local win = tonumber(ARGV[9])
for i = 1, nl do
  local z, s = KEYS[2 * i - 1], KEYS[2 * i]
  local score = redis.call('ZSCORE', z, old)
  if score then
    redis.call('ZREM', z, old)
    if new ~= '' then redis.call('ZADD', z, score, new) end
    redis.call('INCRBY', s, dt)
    redis.call('PEXPIRE', z, 2 * win)
    redis.call('PEXPIRE', s, 2 * win)
  end
end
for j = 1, nb do
  for p = 1, 2 do
    local h = KEYS[2 * nl + 2 * j - 2 + p]
    if dt ~= 0 then redis.call('HINCRBY', h, 't', dt) end
    picoOf(h)
    if dp ~= '0' then redis.call('HINCRBY', h, 'p', dp) end
    redis.call('PEXPIREAT', h, ARGV[6 + p])
  end
end
return 1
`;

/**
 * KEYS: per scope (window set, token sum, day hash, month hash). ARGV: now, window.
 * Returns per scope: requests, tokens, day tokens, day pico-USD (string), month tokens, month pico-USD (string).
 */
export const USAGE_LUA = `${EVICT}
${PICO}
local cutoff = tonumber(ARGV[1]) - tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS, 4 do
  evict(KEYS[i], KEYS[i + 1], cutoff)
  out[#out + 1] = redis.call('ZCARD', KEYS[i])
  out[#out + 1] = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
  out[#out + 1] = tonumber(redis.call('HGET', KEYS[i + 2], 't') or '0')
  out[#out + 1] = picoOf(KEYS[i + 2])
  out[#out + 1] = tonumber(redis.call('HGET', KEYS[i + 3], 't') or '0')
  out[#out + 1] = picoOf(KEYS[i + 3])
end
return out
`;
