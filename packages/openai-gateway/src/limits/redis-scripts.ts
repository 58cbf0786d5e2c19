/**
 * The Lua scripts of the Redis limit store. Each runs atomically in Redis, so every replica's
 * requests are checked and reserved one at a time against one state: no check-then-increment race.
 * The arithmetic is gcra.ts's, line for line (keep them alike); the clock is Redis's own TIME, so
 * replicas whose clocks differ still agree.
 *
 * Keys are passed in KEYS, never built in Lua. Per scope, three: the requests tat, the tokens tat
 * (a string of milliseconds with three decimals: a tat moves by fractions of a millisecond at high
 * rates), and the leases (a sorted set of lease ids scored by their expiry). Then the budget's
 * counter of micro-dollars (always passed, read only when there is a budget). Per scope, ARGV holds
 * rpm, tpm and concurrency (0: no such limit) after the script's own arguments. Replies carry
 * integers only: Redis would truncate a Lua float, so tat-derived values are rounded here.
 *
 * Every key expires once idle: a tat a second after it is whole again, a lease set at twice the
 * lease ttl after its last admission or renewal, a period's counter when the caller says (the
 * period's end plus a margin; a total budget never).
 */

const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local MIN = 60000
local function fmt(x) return string.format('%.3f', x) end
local function num(v, default) if v then return tonumber(v) end return default end
local function state(tat, perMinute)
  local ahead = math.max(0, tat - now)
  return math.max(0, math.floor((MIN - ahead) / (MIN / perMinute) + 1e-9)), math.ceil(ahead)
end
`;

/**
 * ARGV: n, tokens, cost, lease id, lease ttl ms, budget limit (-1: none), budget expires at (0: never),
 * then rpm, tpm, concurrency per scope. Returns {'ok', spent, then per scope requests remaining,
 * requests reset, tokens remaining, tokens reset (-1: no such limit)}, or the first refusal:
 * {'concurrency', i, limit, used, retryAfterMs}, {'requests'|'tokens', i, limit, used, retryAfterMs},
 * {'budget', 0, limit, spent, cost}.
 */
export const ADMIT = `${PRELUDE}
local n, tokens, cost, lease, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local blimit, bexpire = tonumber(ARGV[6]), tonumber(ARGV[7])
local nextR, nextT = {}, {}
for i = 1, n do
  local rpm, tpm, conc = tonumber(ARGV[5 + 3 * i]), tonumber(ARGV[6 + 3 * i]), tonumber(ARGV[7 + 3 * i])
  if conc > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[3 * i], '-inf', now)
    local used = redis.call('ZCARD', KEYS[3 * i])
    if used >= conc then return {'concurrency', i, conc, used, 1000} end
  end
  if rpm > 0 then
    local tat, interval = num(redis.call('GET', KEYS[3 * i - 2]), now), MIN / rpm
    local nx = math.max(tat, now) + interval
    local over = nx - now - MIN
    if over > 1e-6 then return {'requests', i, rpm, math.min(rpm, math.ceil(math.max(0, tat - now) / interval - 1e-9)), math.ceil(over)} end
    nextR[i] = nx
  end
  if tpm > 0 then
    local tat, interval = num(redis.call('GET', KEYS[3 * i - 1]), now), MIN / tpm
    local nx = math.max(tat, now) + tokens * interval
    local over = nx - now - MIN
    if over > 1e-6 then return {'tokens', i, tpm, math.min(tpm, math.ceil(math.max(0, tat - now) / interval - 1e-9)), math.ceil(over)} end
    nextT[i] = nx
  end
end
local bkey = KEYS[3 * n + 1]
if blimit >= 0 then
  local spent = num(redis.call('GET', bkey), 0)
  if spent + cost > blimit then return {'budget', 0, blimit, spent, cost} end
end
local out = {'ok', 0}
for i = 1, n do
  local rpm, tpm, conc = tonumber(ARGV[5 + 3 * i]), tonumber(ARGV[6 + 3 * i]), tonumber(ARGV[7 + 3 * i])
  local rr, rs, tr, ts = -1, -1, -1, -1
  if nextR[i] then
    redis.call('SET', KEYS[3 * i - 2], fmt(nextR[i]), 'PX', math.ceil(nextR[i] - now) + 1000)
    rr, rs = state(nextR[i], rpm)
  end
  if nextT[i] then
    redis.call('SET', KEYS[3 * i - 1], fmt(nextT[i]), 'PX', math.ceil(nextT[i] - now) + 1000)
    tr, ts = state(nextT[i], tpm)
  end
  if conc > 0 then
    redis.call('ZADD', KEYS[3 * i], now + ttl, lease)
    redis.call('PEXPIRE', KEYS[3 * i], ttl * 2)
  end
  table.insert(out, rr) table.insert(out, rs) table.insert(out, tr) table.insert(out, ts)
end
if blimit >= 0 then
  out[2] = redis.call('INCRBY', bkey, cost)
  if bexpire > 0 then redis.call('PEXPIREAT', bkey, bexpire) end
end
return out
`;

/**
 * ARGV: n, token difference (used - reserved), cost difference, lease id, budget (1 or 0), budget
 * expires at (0: never), then rpm, tpm, concurrency per scope. The lease goes, the tokens settle
 * (never below a full bucket), the spend settles (never below zero).
 */
export const SETTLE = `${PRELUDE}
local n, dtokens, dcost, lease, budget, bexpire = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
for i = 1, n do
  local tpm, conc = tonumber(ARGV[5 + 3 * i]), tonumber(ARGV[6 + 3 * i])
  if conc > 0 then redis.call('ZREM', KEYS[3 * i], lease) end
  if tpm > 0 and dtokens ~= 0 then
    local tat = num(redis.call('GET', KEYS[3 * i - 1]), now)
    local nt = math.max(now, tat + dtokens * (MIN / tpm))
    if nt > now then redis.call('SET', KEYS[3 * i - 1], fmt(nt), 'PX', math.ceil(nt - now) + 1000)
    else redis.call('DEL', KEYS[3 * i - 1]) end
  end
end
if budget == 1 and dcost ~= 0 then
  local bkey = KEYS[3 * n + 1]
  local v = redis.call('INCRBY', bkey, dcost)
  if v < 0 then redis.call('SET', bkey, 0, 'KEEPTTL') end
  if bexpire > 0 and redis.call('PTTL', bkey) == -1 then redis.call('PEXPIREAT', bkey, bexpire) end
end
return 1
`;

/** KEYS: the lease sets of a grant. ARGV: lease id, ttl ms. Only leases that still exist are renewed. */
export const RENEW = `${PRELUDE}
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2]) * 2)
end
return 1
`;

/** ARGV: n, budget (1 or 0), then rpm, tpm, concurrency per scope. Returns {spent, then per scope rr, rs, tr, ts, in flight}; changes nothing. */
export const PEEK = `${PRELUDE}
local n, budget = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {0}
if budget == 1 then out[1] = num(redis.call('GET', KEYS[3 * n + 1]), 0) end
for i = 1, n do
  local rpm, tpm = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  local rr, rs, tr, ts = -1, -1, -1, -1
  if rpm > 0 then rr, rs = state(num(redis.call('GET', KEYS[3 * i - 2]), now), rpm) end
  if tpm > 0 then tr, ts = state(num(redis.call('GET', KEYS[3 * i - 1]), now), tpm) end
  table.insert(out, rr) table.insert(out, rs) table.insert(out, tr) table.insert(out, ts)
  table.insert(out, redis.call('ZCOUNT', KEYS[3 * i], '(' .. now, '+inf'))
end
return out
`;
