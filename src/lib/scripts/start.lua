-- start: a job taken by a blocking pop. Checks what ack_fetch checks
-- atomically (pause, rate limit) and gives the job back to the head if it
-- may not run yet; optionally marks it running (fork isolation marks at
-- once; in-process jobs are marked when they report progress or run long).
-- KEYS: 1 status key, 2 queue, 3 processing, 4 paused, 5 rate
-- ARGV: 1 worker id, 2 payload, 3 rate (jobs/s), 4 mark (0|1)
-- Returns attempts so far (after marking), or {-1, pttl} when paused and
-- {-2, wait_ms} when rate-limited.
local now = now_ms()
local give_back = nil
if redis.call('EXISTS', KEYS[4]) == 1 then
  give_back = {-1, redis.call('PTTL', KEYS[4])}
else
  local rate = tonumber(ARGV[3])
  if rate > 0 then
    local interval = 1000 / rate
    local tat = tonumber(redis.call('GET', KEYS[5]) or '0')
    if tat < now then tat = now end
    if tat - now > interval then
      give_back = {-2, math.ceil(tat - now - interval)}
    else
      redis.call('SET', KEYS[5], tat + interval, 'PX', math.ceil(interval * 2) + 1000)
    end
  end
end
if give_back then
  if redis.call('LREM', KEYS[3], -1, ARGV[2]) == 1 then
    redis.call('LPUSH', KEYS[2], ARGV[2])
  end
  return give_back
end
if ARGV[4] ~= '1' then
  return tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
end
redis.call('HSET', KEYS[1], 'state', 'running', 'started_at', now, 'worker', ARGV[1],
  'progress', 0)
redis.call('HDEL', KEYS[1], 'message', 'result', 'next_retry_at', 'finished_at', 'due_at')
redis.call('PERSIST', KEYS[1])
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
publish(KEYS[1])
return attempts
