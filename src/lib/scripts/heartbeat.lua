-- heartbeat: a worker says it is alive, and learns who is not.
-- KEYS: 1 drudge:workers, 2 drudge:worker:<id>, 3 drudge:classes
-- ARGV: 1 worker id, 2 hash ttl s, 3 dead_after ms, 4 class, then field, value pairs
-- Returns up to 20 ids of workers whose last heartbeat is older than dead_after.
local now = now_ms()
redis.call('ZADD', KEYS[1], now, ARGV[1])
local fields = {}
redis.call('SADD', KEYS[3], ARGV[4])
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[2], 'heartbeat_at', now, unpack(fields))
redis.call('EXPIRE', KEYS[2], ARGV[2])
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]), 'LIMIT', 0, 20)
