-- failed_delete: drop one failed job for good, with its status hash (unless
-- the job was pushed again since and the hash describes the new copy).
-- KEYS: 1 failed, 2 status key
-- ARGV: 1 payload
-- Returns 1 removed, 0 no longer in the failed list.
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[2], 'state') == 'failed' then
  redis.call('DEL', KEYS[2])
end
return 1
