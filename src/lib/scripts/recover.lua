-- recover: put one job of a dead worker back at the head of its queue, or
-- into the failed list once it has used its attempts (a poison pill).
-- KEYS: 1 processing (dead worker's), 2 queue, 3 status key, 4 failed, 5 stats
-- ARGV: 1 payload, 2 max_attempts, 3 error text, 4 status_ttl, 5 failed_max
-- Returns '' (not there any more), 'queued' or 'failed'.
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then return '' end
local now = now_ms()
local attempts = tonumber(redis.call('HGET', KEYS[3], 'attempts') or '0')
if attempts >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[3], 'state', 'failed', 'error', ARGV[3], 'finished_at', now)
  redis.call('HINCRBY', KEYS[5], 'failed', 1)
  redis.call('LPUSH', KEYS[4], ARGV[1])
  local cap = tonumber(ARGV[5])
  if cap > 0 then redis.call('LTRIM', KEYS[4], 0, cap - 1) end
  local ttl = tonumber(ARGV[4])
  if ttl < 604800 then ttl = 604800 end
  redis.call('EXPIRE', KEYS[3], ttl)
  publish(KEYS[3])
  return 'failed'
end
redis.call('LPUSH', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], 'state', 'queued', 'error', ARGV[3])
publish(KEYS[3])
return 'queued'
