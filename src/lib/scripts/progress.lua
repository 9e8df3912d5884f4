-- progress: a handler's progress and message on a running job.
-- KEYS: 1 status key; ARGV: 1 progress ('' = unchanged), 2 message ('' = unchanged)
if ARGV[1] ~= '' then redis.call('HSET', KEYS[1], 'progress', ARGV[1]) end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'message', ARGV[2]) end
publish(KEYS[1])
return 0
