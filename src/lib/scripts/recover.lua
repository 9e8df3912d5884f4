-- recover: put one job of a dead worker back at the head of its queue, or
-- into the failed list once it has used its attempts (a poison pill).
-- The job at the head of the dead worker's processing list is the one it
-- was running: its attempt is counted here if nothing counted it yet; jobs
-- behind it had not started and are not charged.
-- KEYS: 1 processing (dead worker's), 2 queue, 3 status key, 4 failed, 5 stats
-- ARGV: 1 payload, 2 max_attempts, 3 error text, 4 status_ttl, 5 failed_max,
--       6 was running (1 for the head of the list, else 0)
-- Returns '' (not there any more), 'queued', 'failed' or 'cancelled' (a
-- user had asked to cancel it).
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then return '' end
if cancel_flagged(KEYS[3], tonumber(ARGV[4])) then return 'cancelled' end
local now = now_ms()
local h = redis.call('HMGET', KEYS[3], 'state', 'attempts')
local attempts = tonumber(h[2] or '0')
if ARGV[6] == '1' and h[1] ~= 'running' then
  attempts = redis.call('HINCRBY', KEYS[3], 'attempts', 1)
end
if ARGV[6] == '1' and attempts >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[3], 'state', 'failed', 'error', ARGV[3], 'finished_at', now)
  redis.call('HINCRBY', KEYS[5], 'failed', 1)
  redis.call('LPUSH', KEYS[4], ARGV[1])
  local cap = tonumber(ARGV[5])
  if cap > 0 then redis.call('LTRIM', KEYS[4], 0, cap - 1) end
  redis.call('EXPIRE', KEYS[3], math.max(tonumber(ARGV[4]), 604800))
  publish(KEYS[3])
  return 'failed'
end
redis.call('LPUSH', KEYS[2], ARGV[1])
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[3], 'state', 'queued', 'error', ARGV[3])
  publish(KEYS[3])
end
return 'queued'
