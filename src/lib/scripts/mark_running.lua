-- mark_running: mark an in-process job running once it has run for a
-- moment, reports progress, or asks which attempt it is. Counts the
-- attempt (ack_fetch does not count it again). Only while the job is still
-- in this worker's processing list, so a late mark never overwrites an
-- outcome.
-- KEYS: 1 processing, 2 status key
-- ARGV: 1 payload, 2 worker id, 3 ms the job has run, 4 progress ('' =
--       unchanged), 5 message ('' = unchanged)
-- Returns {attempts, cancel requested (0|1)}, or {0, 0} if not held.
if not redis.call('LPOS', KEYS[1], ARGV[1]) then return {0, 0} end
local now = now_ms()
local h = redis.call('HMGET', KEYS[2], 'state', 'attempts', 'cancel')
local attempts = tonumber(h[2] or '0')
if h[1] ~= 'running' then
  redis.call('HSET', KEYS[2], 'state', 'running', 'started_at', now - tonumber(ARGV[3]),
    'worker', ARGV[2], 'progress', 0)
  redis.call('HDEL', KEYS[2], 'message', 'result', 'next_retry_at', 'finished_at', 'due_at')
  redis.call('PERSIST', KEYS[2])
  attempts = redis.call('HINCRBY', KEYS[2], 'attempts', 1)
end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[2], 'progress', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[2], 'message', ARGV[5]) end
publish(KEYS[2])
return {attempts, h[3] and 1 or 0}
