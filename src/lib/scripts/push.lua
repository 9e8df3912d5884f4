-- push: enqueue one job and write its status `queued`, atomically.
-- KEYS: 1 queue, 2 status key, 3 delayed, 4 classes set
-- ARGV: 1 payload, 2 due_ms (unix ms; 0 = none), 3 unique (0|1), 4 class name
--       ('' when the client registered the class already), 5 delay_ms
--       (relative to the server's clock; used when due_ms is 0)
-- Returns {0} pushed, {1} duplicate (unique and a live copy exists).
local unique = ARGV[3] == '1'
if unique then
  local state = redis.call('HGET', KEYS[2], 'state')
  if state == 'queued' or state == 'running' or state == 'retrying' then
    return {1}
  end
end
local now = now_ms()
local due = tonumber(ARGV[2])
if due <= 0 and tonumber(ARGV[5]) > 0 then due = now + tonumber(ARGV[5]) end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'state', 'queued', 'queued_at', now, 'attempts', 0, 'progress', 0)
if due > now then
  redis.call('ZADD', KEYS[3], due, ARGV[1])
  redis.call('HSET', KEYS[2], 'due_at', due)
else
  redis.call('RPUSH', KEYS[1], ARGV[1])
end
if ARGV[4] ~= '' then redis.call('SADD', KEYS[4], ARGV[4]) end
publish(KEYS[2])
return {0}
