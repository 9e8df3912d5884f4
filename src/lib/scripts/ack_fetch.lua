-- ack_fetch: record the outcomes of the jobs a worker finished and move
-- the next jobs into its processing list, in one call: a busy worker's
-- whole cycle is one round trip per batch.
-- KEYS: 1 queue, 2 processing, 3 stats, 4 delayed, 5 failed, 6 paused,
--       7 rate, 8 breaker
-- ARGV: 1 fetch count (0 = ack only), 2 worker id, 3 max_attempts,
--       4 status_ttl s, 5 failed_max, 6 rate (jobs/s, 0 = none),
--       7 breaker base ms, 8 breaker cap ms, 9 probe hold ms,
--       10 number of acks n, then n groups of 6:
--       payload, status key, outcome (done | retry | fail | unavailable |
--       defer | requeue), result or error text, run_ms, retry delay ms
--       (defer: unavailable for this job only - back to <Class>:delayed
--       after the delay, attempt not spent, class not paused; after 50
--       deferrals of one job each further one spends an attempt)
-- Returns {states, fetch, value, trimmed}:
--   states: one entry per ack: the state written ('done', 'retrying',
--       'failed', 'queued', 'cancelled') or 'gone' (not in the processing
--       list any more: an ack resent after a lost reply).
--   fetch: 'jobs' (value = list of payloads), 'empty', 'paused' (value =
--       ms to wait, -1 for a pause without expiry), 'wait' (value = ms until
--       a rate token), or '' when nothing was asked.
--   trimmed: jobs dropped from the failed list by its cap.
--
-- A job's attempt is counted once: by the running mark (start, progress
-- or the supervisor's mark_running, which set state 'running') or, for a
-- job that finished before anything marked it, here.
local now = now_ms()
local MAX_DEFERRALS = 50
local worker = ARGV[2]
local max_attempts = tonumber(ARGV[3])
local status_ttl = tonumber(ARGV[4])
local failed_max = tonumber(ARGV[5])
local n = tonumber(ARGV[10])
local states = {}
local changed = {} -- status keys written, PUBLISHed at the end if anybody listens
local trimmed = 0
local processed, failed, retried, run_total = 0, 0, 0, 0
-- job durations for the metrics histogram: <Class>:stats le_<ms> counts the
-- jobs that ran at most <ms> and more than the bucket below (le_inf: longer)
local BUCKETS = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000}
local hist = {}
local function observe(ms)
  for _, b in ipairs(BUCKETS) do
    if ms <= b then hist[b] = (hist[b] or 0) + 1 return end
  end
  hist['inf'] = (hist['inf'] or 0) + 1
end

local function fail_job(status, payload, err)
  redis.call('HSET', status, 'state', 'failed', 'error', err, 'finished_at', now)
  redis.call('HDEL', status, 'next_retry_at')
  failed = failed + 1
  redis.call('LPUSH', KEYS[5], payload)
  if failed_max > 0 then
    local len = redis.call('LLEN', KEYS[5])
    if len > failed_max then
      redis.call('LTRIM', KEYS[5], 0, failed_max - 1)
      trimmed = trimmed + len - failed_max
    end
  end
  -- failed statuses outlive done ones: someone will come and look
  redis.call('EXPIRE', status, math.max(status_ttl, 604800))
  return 'failed'
end

for i = 0, n - 1 do
  local b = 11 + i * 6
  local payload, status, outcome, text = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  local run_ms = tonumber(ARGV[b + 4])
  local state
  if redis.call('LREM', KEYS[2], 1, payload) == 0 then
    state = 'gone'
  else
    local h = redis.call('HMGET', status, 'state', 'cancel', 'attempts', 'next_retry_at', 'due_at')
    local marked = h[1] == 'running'
    local counted = outcome ~= 'requeue' and outcome ~= 'unavailable' and outcome ~= 'defer'
    if counted then
      run_total = run_total + run_ms
      observe(run_ms)
    end
    -- a job a user asked to cancel ends cancelled unless it finished: also
    -- when it is given back (a drain's end, unrun after a sick service)
    if h[2] and outcome ~= 'done' and outcome ~= 'defer' then
      outcome = 'cancelled'
    end
    if counted and not marked and outcome ~= 'done' then
      redis.call('HINCRBY', status, 'attempts', 1)
      redis.call('HSET', status, 'started_at', now - run_ms, 'worker', worker)
    end
    if outcome == 'done' then
      -- the common case in one write: the outcome, and the attempt and
      -- start of a job that finished before anything marked it running
      local f = {'state', 'done', 'progress', '100', 'finished_at', now}
      if not marked then
        local nf = #f
        f[nf + 1], f[nf + 2] = 'attempts', tonumber(h[3] or '0') + 1
        f[nf + 3], f[nf + 4] = 'started_at', now - run_ms
        f[nf + 5], f[nf + 6] = 'worker', worker
      end
      if text ~= '' then
        f[#f + 1], f[#f + 2] = 'result', text
      end
      redis.call('HSET', status, unpack(f))
      if h[2] or h[4] or h[5] then
        redis.call('HDEL', status, 'next_retry_at', 'cancel', 'due_at')
      end
      redis.call('EXPIRE', status, status_ttl)
      processed = processed + 1
      state = 'done'
    elseif outcome == 'retry' then
      local attempts = tonumber(redis.call('HGET', status, 'attempts') or '1')
      if attempts >= max_attempts then
        state = fail_job(status, payload, text)
      else
        local due = now + tonumber(ARGV[b + 5])
        redis.call('ZADD', KEYS[4], due, payload)
        redis.call('HSET', status, 'state', 'retrying', 'error', text, 'next_retry_at', due,
          'finished_at', now)
        retried = retried + 1
        state = 'retrying'
      end
    elseif outcome == 'fail' then
      state = fail_job(status, payload, text)
    elseif outcome == 'cancelled' then
      redis.call('HSET', status, 'state', 'cancelled', 'finished_at', now)
      redis.call('HDEL', status, 'cancel')
      redis.call('EXPIRE', status, status_ttl)
      state = 'cancelled'
    elseif outcome == 'defer' and redis.call('HINCRBY', status, 'deferrals', 1) > MAX_DEFERRALS then
      -- deferred too often (a host that never comes back, a typo): from now
      -- on each deferral spends an attempt, so the job ends in the failed list
      run_total = run_total + run_ms
      if not marked then redis.call('HINCRBY', status, 'attempts', 1) end
      local attempts = tonumber(redis.call('HGET', status, 'attempts') or '1')
      if attempts >= max_attempts then
        state = fail_job(status, payload, text)
      else
        local due = now + tonumber(ARGV[b + 5])
        redis.call('ZADD', KEYS[4], due, payload)
        redis.call('HSET', status, 'state', 'retrying', 'error', text, 'next_retry_at', due)
        retried = retried + 1
        state = 'retrying'
      end
    elseif outcome == 'defer' then
      -- the service behind this one job is down (a per-host breaker):
      -- try it again later without spending an attempt or pausing the class
      local due = now + tonumber(ARGV[b + 5])
      redis.call('ZADD', KEYS[4], due, payload)
      if marked then redis.call('HINCRBY', status, 'attempts', -1) end
      redis.call('HSET', status, 'state', 'queued', 'error', text, 'due_at', due)
      state = 'queued'
    else
      -- unavailable / requeue: back to the head, the attempt not spent
      redis.call('LPUSH', KEYS[1], payload)
      if marked then redis.call('HINCRBY', status, 'attempts', -1) end
      redis.call('HSET', status, 'state', 'queued')
      if outcome == 'unavailable' then
        redis.call('HSET', status, 'error', text)
        -- circuit breaker: pause the class for a cool-down that doubles
        -- while failures continue; a human pause (no TTL) is left alone
        local cool = tonumber(redis.call('HGET', KEYS[8], 'cooldown_ms') or '0')
        if cool <= 0 then cool = tonumber(ARGV[7]) else cool = cool * 2 end
        if cool > tonumber(ARGV[8]) then cool = tonumber(ARGV[8]) end
        if redis.call('PTTL', KEYS[6]) ~= -1 then
          redis.call('SET', KEYS[6], 'circuit breaker: ' .. text, 'PX', cool)
          redis.call('HSET', KEYS[8], 'cooldown_ms', cool, 'since', now, 'error', text)
          redis.call('HDEL', KEYS[8], 'probe_until')
        end
      end
      state = 'queued'
    end
    changed[#changed + 1] = status
  end
  states[#states + 1] = state
end
-- one listener check for the whole batch rather than one per job
publish_many(changed)

if processed > 0 then
  redis.call('HINCRBY', KEYS[3], 'processed', processed)
  -- a success closes the circuit breaker
  if redis.call('EXISTS', KEYS[8]) == 1 then redis.call('DEL', KEYS[8]) end
end
if failed > 0 then redis.call('HINCRBY', KEYS[3], 'failed', failed) end
if retried > 0 then redis.call('HINCRBY', KEYS[3], 'retried', retried) end
if run_total > 0 then redis.call('HINCRBY', KEYS[3], 'run_ms', run_total) end
for b, count in pairs(hist) do redis.call('HINCRBY', KEYS[3], 'le_' .. b, count) end
-- per-minute counters, kept 24 h, for the dashboard's throughput plot:
-- <Class>:minute:<unix minute> {processed, failed, retried, run_ms}
if processed + failed + retried > 0 then
  local mkey = string.sub(KEYS[3], 1, -6) .. 'minute:' .. math.floor(now / 60000)
  if processed > 0 then redis.call('HINCRBY', mkey, 'processed', processed) end
  if failed > 0 then redis.call('HINCRBY', mkey, 'failed', failed) end
  if retried > 0 then redis.call('HINCRBY', mkey, 'retried', retried) end
  if run_total > 0 then redis.call('HINCRBY', mkey, 'run_ms', run_total) end
  redis.call('EXPIRE', mkey, 86400)
end

local want = tonumber(ARGV[1])
if want <= 0 then
  return {states, '', '', trimmed}
end
local pttl = redis.call('PTTL', KEYS[6])
if pttl ~= -2 then
  return {states, 'paused', pttl, trimmed}
end
-- After a circuit-breaker pause only one worker at a time takes a job (the
-- probe) until a success resets the breaker: no stampede on a sick service.
local probing = redis.call('EXISTS', KEYS[8]) == 1
if probing then
  local until_ms = tonumber(redis.call('HGET', KEYS[8], 'probe_until') or '0')
  if until_ms > now then
    return {states, 'paused', until_ms - now, trimmed}
  end
  want = 1
end
local rate = tonumber(ARGV[6])
local tat, interval = 0, 0
if rate > 0 then
  -- GCRA: one token per interval, shared by every worker of the class
  interval = 1000 / rate
  tat = tonumber(redis.call('GET', KEYS[7]) or '0')
  if tat < now then tat = now end
  if tat - now > interval then
    return {states, 'wait', math.ceil(tat - now - interval), trimmed}
  end
  want = 1
end
local jobs = redis.call('LRANGE', KEYS[1], 0, want - 1)
if #jobs == 0 then
  return {states, 'empty', '', trimmed}
end
redis.call('LTRIM', KEYS[1], #jobs, -1)
redis.call('RPUSH', KEYS[2], unpack(jobs))
if rate > 0 then
  redis.call('SET', KEYS[7], tat + interval, 'PX', math.ceil(interval * 2) + 1000)
end
if probing then
  redis.call('HSET', KEYS[8], 'probe_until', now + tonumber(ARGV[9]))
end
return {states, 'jobs', jobs, trimmed}
