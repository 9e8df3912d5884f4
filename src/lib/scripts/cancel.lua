-- cancel: stop a job that has not finished.
-- A waiting job (in the queue or the delayed set) is removed and its status
-- becomes cancelled. A running job is only flagged (status field `cancel`):
-- the worker records its outcome as cancelled (ack_fetch).
-- KEYS: 1 queue, 2 delayed, 3 status key
-- ARGV: 1 mode (waiting | running), 2 payload (waiting), 3 status_ttl s
-- Returns 'cancelled', 'requested', or '' when the job is no longer where
-- the caller found it (a worker took it, or it finished).
if ARGV[1] == 'running' then
  if redis.call('HGET', KEYS[3], 'state') ~= 'running' then return '' end
  redis.call('HSET', KEYS[3], 'cancel', 1)
  publish(KEYS[3])
  return 'requested'
end
local removed = redis.call('LREM', KEYS[1], 0, ARGV[2]) + redis.call('ZREM', KEYS[2], ARGV[2])
if removed == 0 then return '' end
redis.call('HSET', KEYS[3], 'state', 'cancelled', 'finished_at', now_ms())
redis.call('HDEL', KEYS[3], 'next_retry_at', 'cancel', 'due_at')
redis.call('EXPIRE', KEYS[3], ARGV[3])
publish(KEYS[3])
return 'cancelled'
