-- push_many: enqueue a batch of jobs and write each one's status `queued`,
-- atomically, in one call (the pipelined producer's path).
-- KEYS: 1 queue, 2 classes set, 3 the bulk push's progress key (one push of
--       more jobs than one call takes is several calls, pipelined)
-- ARGV: 1 class name, 2 this call's index in the bulk push (0, 1, ...),
--       3 '1' for its last call, then pairs: payload, status key
-- Returns the number pushed, or an error when an earlier call of the same
-- bulk push did not complete (it failed, e.g. Redis refused writes): the
-- jobs that went in are then always the first ones, in order.
-- Per job this costs one HSET: a status hash that is new takes all four
-- fields, so HSET adding fewer means the id was used before (every status
-- hash has `state`), and only then is the old hash dropped and rewritten.
local call, last = tonumber(ARGV[2]), ARGV[3] == '1'
if call > 0 and tonumber(redis.call('GET', KEYS[3]) or '-1') ~= call - 1 then
  return redis.error_reply('skipped: an earlier call of this bulk push did not complete')
end
local now = tostring(now_ms())
local payloads, statuses = {}, {}
for i = 4, #ARGV, 2 do
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
-- the next call of this bulk push may go on (kept 10 min: a client that
-- stalls longer between two calls gets the skipped error); a push of one
-- call never needs the key, and the last call removes it
if not last then
  redis.call('SET', KEYS[3], call, 'PX', 600000)
elseif call > 0 then
  redis.call('DEL', KEYS[3])
end
-- one listener check for the whole batch rather than one per job
publish_many(statuses)
return #payloads
