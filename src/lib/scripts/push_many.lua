-- push_many: enqueue a batch of jobs and write each one's status `queued`,
-- atomically, in one call (the pipelined producer's path).
-- KEYS: 1 queue, 2 classes set
-- ARGV: 1 class name, then pairs: payload, status key
-- Returns the number pushed.
-- Per job this costs one HSET: a status hash that is new takes all four
-- fields, so HSET adding fewer means the id was used before (every status
-- hash has `state`), and only then is the old hash dropped and rewritten.
local now = tostring(now_ms())
local payloads, statuses = {}, {}
for i = 2, #ARGV, 2 do
  local status = ARGV[i + 1]
  if redis.call('HSET', status, 'state', 'queued', 'queued_at', now,
                'attempts', '0', 'progress', '0') < 4 then
    redis.call('DEL', status)
    redis.call('HSET', status, 'state', 'queued', 'queued_at', now,
               'attempts', '0', 'progress', '0')
  end
  payloads[#payloads + 1] = ARGV[i]
  statuses[#statuses + 1] = status
end
if #payloads == 0 then return 0 end
redis.call('RPUSH', KEYS[1], unpack(payloads))
redis.call('SADD', KEYS[2], ARGV[1])
-- one listener check for the whole batch rather than one per job
publish_many(statuses)
return #payloads
