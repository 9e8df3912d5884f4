-- push_many: enqueue a batch of jobs and write each one's status `queued`,
-- atomically, in one call (the pipelined producer's path).
-- KEYS: 1 queue, 2 classes set
-- ARGV: 1 class name, then pairs: payload, status key
-- Returns the number pushed.
local now = now_ms()
local payloads = {}
for i = 2, #ARGV, 2 do
  local status = ARGV[i + 1]
  redis.call('DEL', status)
  redis.call('HSET', status, 'state', 'queued', 'queued_at', now, 'attempts', 0, 'progress', 0)
  publish(status)
  payloads[#payloads + 1] = ARGV[i]
end
if #payloads > 0 then
  redis.call('RPUSH', KEYS[1], unpack(payloads))
  redis.call('SADD', KEYS[2], ARGV[1])
end
return #payloads
