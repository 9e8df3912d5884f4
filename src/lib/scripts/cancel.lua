-- cancel: stop a job that has not finished.
-- A waiting job (in the queue or the delayed set) is removed and its status
-- becomes cancelled. A job in a worker's hands - running, or fetched and
-- not marked running yet - is only flagged (status field `cancel`): the
-- handler sees it through drudge_ctx_cancelled(), and unless it finishes
-- done its outcome is recorded as cancelled (ack_fetch).
-- KEYS: 1 the queue (waiting) or the processing list holding the job
--       (held), 2 delayed, 3 status key
-- ARGV: 1 mode (waiting | running | held), 2 payload (waiting, held),
--       3 status_ttl s
-- Returns 'cancelled', 'requested', or '' when the job is no longer where
-- the caller found it (a worker took it, or it finished).
local mode = ARGV[1]
if mode == 'running' or mode == 'held' then
  local state = redis.call('HGET', KEYS[3], 'state')
  if mode == 'running' and state ~= 'running' then return '' end
  if mode == 'held' then
    if not redis.call('LPOS', KEYS[1], ARGV[2]) then return '' end
    if state == 'done' or state == 'failed' or state == 'cancelled' then return '' end
  end
  redis.call('HSET', KEYS[3], 'cancel', 1)
  publish(KEYS[3])
  return 'requested'
end
local removed = redis.call('LREM', KEYS[1], 0, ARGV[2]) + redis.call('ZREM', KEYS[2], ARGV[2])
if removed == 0 then return '' end
redis.call('HSET', KEYS[3], 'state', 'cancelled', 'finished_at', now_ms())
redis.call('HDEL', KEYS[3], 'next_retry_at', 'cancel', 'due_at')
redis.call('EXPIRE', KEYS[3], ARGV[3])
publish(KEYS[3])
return 'cancelled'
