-- cron_fire: push the job of a schedule entry for one due minute, exactly
-- once however many workers try (the entry's last_fire is the guard).
-- KEYS: 1 drudge:cron:<name>, 2 queue, 3 status key, 4 classes set
-- ARGV: 1 due (unix s), 2 payload, 3 class name
-- Returns 1 if this call fired, 0 if the minute had fired already.
local last = tonumber(redis.call('HGET', KEYS[1], 'last_fire') or '0')
if last >= tonumber(ARGV[1]) then return 0 end
local now = now_ms()
redis.call('HSET', KEYS[1], 'last_fire', ARGV[1], 'fired_at', now)
redis.call('HINCRBY', KEYS[1], 'fires', 1)
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], 'state', 'queued', 'queued_at', now, 'attempts', 0, 'progress', 0)
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[4], ARGV[3])
publish(KEYS[3])
return 1
