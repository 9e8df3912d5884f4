-- promote: move due jobs from <Class>:delayed to the tail of the queue, in
-- order of due time. Atomic, so two housekeepers never promote a job twice.
-- KEYS: 1 delayed, 2 queue; ARGV: 1 max jobs per call
-- Returns {promoted, next due ms or -1}.
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for i = 1, #due do
  redis.call('RPUSH', KEYS[2], due[i])
end
if #due > 0 then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, #due - 1)
end
local nxt = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #nxt == 0 then return {#due, -1} end
return {#due, math.floor(tonumber(nxt[2]))}
