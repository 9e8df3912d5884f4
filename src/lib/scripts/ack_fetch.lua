-- ack_fetch: record the outcome of the job a worker finished and move the
-- next job into its processing list, in one call: the worker's whole cycle
-- is one round trip. Either half may be absent (mode).
-- KEYS: 1 queue, 2 processing, 3 status key (finished job), 4 stats,
--       5 delayed, 6 failed, 7 paused, 8 rate, 9 breaker
-- ARGV: 1 mode (ack | fetch | ackfetch), 2 finished payload,
--       3 outcome (done | retry | fail | unavailable | requeue),
--       4 result (done) or error text, 5 run_ms, 6 max_attempts,
--       7 retry delay ms, 8 status_ttl s, 9 failed_max, 10 rate (jobs/s),
--       11 breaker base ms, 12 breaker cap ms, 13 probe hold ms (the
--       class's timeout: how long one probe job may take)
-- Returns {ack, fetch, value}:
--   ack: '' (no ack), the final state written ('done', 'retrying', 'failed',
--        'queued', 'cancelled'), or 'gone' (not in processing: acked before);
--        for 'failed', a third element may carry the number trimmed.
--   fetch: 'job' (value = payload), 'empty', 'paused' (value = pttl ms, -1
--        for no expiry), 'wait' (value = ms until a rate token), or ''.
local mode = ARGV[1]
local ack_state = ''
local trimmed = 0
local now = now_ms()

local function fail_job(status, err)
  redis.call('HSET', status, 'state', 'failed', 'error', err, 'finished_at', now)
  redis.call('HDEL', status, 'next_retry_at')
  redis.call('HINCRBY', KEYS[4], 'failed', 1)
  redis.call('LPUSH', KEYS[6], ARGV[2])
  local cap = tonumber(ARGV[9])
  local len = redis.call('LLEN', KEYS[6])
  if cap > 0 and len > cap then
    redis.call('LTRIM', KEYS[6], 0, cap - 1)
    trimmed = len - cap
  end
  -- failed statuses outlive done ones: someone will come and look
  local ttl = tonumber(ARGV[8])
  if ttl < 604800 then ttl = 604800 end
  redis.call('EXPIRE', status, ttl)
  return 'failed'
end

if mode ~= 'fetch' then
  local status = KEYS[3]
  if redis.call('LREM', KEYS[2], -1, ARGV[2]) == 0 then
    ack_state = 'gone'
  else
    local outcome = ARGV[3]
    local cancel = redis.call('HGET', status, 'cancel')
    if cancel and outcome ~= 'done' and outcome ~= 'requeue' then outcome = 'cancelled' end
    if outcome == 'done' then
      if ARGV[4] ~= '' then
        redis.call('HSET', status, 'state', 'done', 'progress', 100, 'finished_at', now,
          'result', ARGV[4])
      else
        redis.call('HSET', status, 'state', 'done', 'progress', 100, 'finished_at', now)
      end
      redis.call('HDEL', status, 'next_retry_at', 'cancel')
      redis.call('EXPIRE', status, ARGV[8])
      redis.call('HINCRBY', KEYS[4], 'processed', 1)
      redis.call('HINCRBY', KEYS[4], 'run_ms', ARGV[5])
      if redis.call('EXISTS', KEYS[9]) == 1 then redis.call('DEL', KEYS[9]) end
      ack_state = 'done'
    elseif outcome == 'retry' then
      local attempts = tonumber(redis.call('HGET', status, 'attempts') or '1')
      redis.call('HINCRBY', KEYS[4], 'run_ms', ARGV[5])
      if attempts >= tonumber(ARGV[6]) then
        ack_state = fail_job(status, ARGV[4])
      else
        local due = now + tonumber(ARGV[7])
        redis.call('ZADD', KEYS[5], due, ARGV[2])
        redis.call('HSET', status, 'state', 'retrying', 'error', ARGV[4], 'next_retry_at', due,
          'finished_at', now)
        redis.call('HINCRBY', KEYS[4], 'retried', 1)
        ack_state = 'retrying'
      end
    elseif outcome == 'fail' then
      redis.call('HINCRBY', KEYS[4], 'run_ms', ARGV[5])
      ack_state = fail_job(status, ARGV[4])
    elseif outcome == 'cancelled' then
      redis.call('HSET', status, 'state', 'cancelled', 'finished_at', now)
      redis.call('HDEL', status, 'cancel')
      redis.call('EXPIRE', status, ARGV[8])
      ack_state = 'cancelled'
    else
      -- unavailable / requeue: back to the head, the attempt not spent
      redis.call('LPUSH', KEYS[1], ARGV[2])
      redis.call('HINCRBY', status, 'attempts', -1)
      redis.call('HSET', status, 'state', 'queued')
      if outcome == 'unavailable' then
        redis.call('HSET', status, 'error', ARGV[4])
        -- circuit breaker: pause the class for a cool-down that doubles
        -- while failures continue; a human pause (no TTL) is left alone
        local cool = tonumber(redis.call('HGET', KEYS[9], 'cooldown_ms') or '0')
        if cool <= 0 then cool = tonumber(ARGV[11]) else cool = cool * 2 end
        if cool > tonumber(ARGV[12]) then cool = tonumber(ARGV[12]) end
        local pttl = redis.call('PTTL', KEYS[7])
        if pttl ~= -1 then
          redis.call('SET', KEYS[7], 'circuit breaker: ' .. ARGV[4], 'PX', cool)
          redis.call('HSET', KEYS[9], 'cooldown_ms', cool, 'since', now, 'error', ARGV[4])
          redis.call('HDEL', KEYS[9], 'probe_until')
        end
      end
      ack_state = 'queued'
    end
    publish(status)
  end
end

if mode == 'ack' then
  return {ack_state, '', '', trimmed}
end

local pttl = redis.call('PTTL', KEYS[7])
if pttl ~= -2 then
  return {ack_state, 'paused', pttl, trimmed}
end
local rate = tonumber(ARGV[10])
local tat = 0
local interval = 0
if rate > 0 then
  interval = 1000 / rate
  tat = tonumber(redis.call('GET', KEYS[8]) or '0')
  if tat < now then tat = now end
  if tat - now > interval then
    return {ack_state, 'wait', math.ceil(tat - now - interval), trimmed}
  end
end
-- After a circuit-breaker pause only one worker at a time takes a job (the
-- probe) until a success resets the breaker: no stampede on a sick service.
local probing = redis.call('EXISTS', KEYS[9]) == 1
if probing then
  local until_ms = tonumber(redis.call('HGET', KEYS[9], 'probe_until') or '0')
  if until_ms > now then
    return {ack_state, 'paused', until_ms - now, trimmed}
  end
end
local job = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
if not job then
  return {ack_state, 'empty', '', trimmed}
end
if probing then
  redis.call('HSET', KEYS[9], 'probe_until', now + tonumber(ARGV[13]))
end
if rate > 0 then
  redis.call('SET', KEYS[8], tat + interval, 'PX', math.ceil(interval * 2) + 1000)
end
return {ack_state, 'job', job, trimmed}
