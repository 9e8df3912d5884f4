-- requeue: a worker gives a job back (drain deadline, stop before start,
-- clean-up after a lost reply): to the head of the queue. An attempt that
-- was counted (state running) is not charged. A job a user asked to cancel
-- meanwhile ends cancelled instead.
-- KEYS: 1 processing, 2 queue, 3 status key; ARGV: 1 payload, 2 status_ttl s
-- Returns 1 requeued, 2 cancelled, 0 not in the processing list.
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then return 0 end
if cancel_flagged(KEYS[3], tonumber(ARGV[2])) then return 2 end
redis.call('LPUSH', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[3], 'state') == 'running' then
  redis.call('HINCRBY', KEYS[3], 'attempts', -1)
  redis.call('HSET', KEYS[3], 'state', 'queued')
  publish(KEYS[3])
end
return 1
