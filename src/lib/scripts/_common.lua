-- Prepended to every drudge script (tools/embed.sh). Timestamps come from
-- the Redis server's clock so workers on several machines share one clock.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Status changes are PUBLISHed as the whole hash in JSON, but only when
-- somebody listens: encoding costs more than the rest of a cycle.
local function publish_now(status_key)
  local h = redis.call('HGETALL', status_key)
  local o = {}
  for i = 1, #h, 2 do o[h[i]] = h[i + 1] end
  redis.call('PUBLISH', status_key, cjson.encode(o))
end

local function publish(status_key)
  if redis.call('PUBSUB', 'NUMSUB', status_key)[2] > 0 then publish_now(status_key) end
end

-- The same for many statuses at once: one listener check for all of them.
local function publish_many(status_keys)
  if #status_keys == 0 then return end
  local subs = redis.call('PUBSUB', 'NUMSUB', unpack(status_keys))
  for i = 2, #subs, 2 do
    if subs[i] > 0 then publish_now(subs[i - 1]) end
  end
end

-- A job flagged for cancelling (`drudge cancel` while a worker held it) that
-- is being given back - a drain's end, a dead worker, an unrun prefetch -
-- ends cancelled instead of going back to the queue. True if it did.
local function cancel_flagged(status_key, ttl)
  if not redis.call('HGET', status_key, 'cancel') then return false end
  redis.call('HSET', status_key, 'state', 'cancelled', 'finished_at', now_ms())
  redis.call('HDEL', status_key, 'cancel', 'next_retry_at', 'due_at')
  redis.call('EXPIRE', status_key, ttl)
  publish(status_key)
  return true
end
