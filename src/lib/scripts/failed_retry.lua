-- failed_retry: put one failed job back at the tail of its queue, fresh:
-- state queued, attempts 0, the last error and finish time cleared.
-- The copy nearest the tail (the oldest) is the one taken, so a caller
-- walking the list from the tail removes exactly the element it read.
-- KEYS: 1 failed, 2 queue, 3 status key
-- ARGV: 1 payload
-- Returns 'queued'; 'live' when the job was pushed again since it failed
-- and is queued or running now (the dead letter is dropped, no second copy
-- is queued); or '' when the payload is no longer in the failed list.
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then return '' end
local state = redis.call('HGET', KEYS[3], 'state')
if state == 'queued' or state == 'running' or state == 'retrying' then return 'live' end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], 'state', 'queued', 'attempts', 0, 'progress', 0,
  'queued_at', now_ms())
redis.call('HDEL', KEYS[3], 'error', 'finished_at', 'next_retry_at', 'cancel', 'result',
  'message', 'due_at')
redis.call('PERSIST', KEYS[3])
publish(KEYS[3])
return 'queued'
