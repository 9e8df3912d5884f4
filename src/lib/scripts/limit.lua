-- limit: rate limits and circuit breakers on names a handler chooses (an
-- API host, say), shared by every worker of a class.
-- KEYS: 1 <Class>:rate:<name> or <Class>:breaker:<name>
-- ARGV: 1 op (rate | check | trip | reset), 2 rate per second (rate) or
--       error text (trip), 3 breaker base ms, 4 breaker cap ms
-- Returns: rate: 0 when a token was taken, else ms until one is due;
--          check: ms the breaker stays open (0 = closed);
--          trip: the new cool-down ms; reset: 0.
local now = now_ms()
local op = ARGV[1]
if op == 'rate' then
  local interval = 1000 / tonumber(ARGV[2])
  local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
  if tat < now then tat = now end
  if tat - now > interval then return math.ceil(tat - now - interval) end
  redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil(interval * 2) + 1000)
  return 0
elseif op == 'check' then
  local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
  if open_until > now then return open_until - now end
  return 0
elseif op == 'trip' then
  local cool = tonumber(redis.call('HGET', KEYS[1], 'cooldown_ms') or '0')
  local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
  if open_until > now then return open_until - now end  -- already open: others tripped it
  if cool <= 0 then cool = tonumber(ARGV[3]) else cool = cool * 2 end
  if cool > tonumber(ARGV[4]) then cool = tonumber(ARGV[4]) end
  redis.call('HSET', KEYS[1], 'cooldown_ms', cool, 'open_until', now + cool, 'error', ARGV[2],
    'since', now)
  -- forget the breaker a while after it last tripped
  redis.call('PEXPIRE', KEYS[1], cool * 4 + 60000)
  return cool
else
  redis.call('DEL', KEYS[1])
  return 0
end
