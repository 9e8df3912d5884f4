-- Prepended to every drudge script (tools/embed.sh). Timestamps come from
-- the Redis server's clock so workers on several machines share one clock.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Status changes are PUBLISHed as the whole hash in JSON, but only when
-- somebody listens: encoding costs more than the rest of a cycle.
local function publish(status_key)
  local n = redis.call('PUBSUB', 'NUMSUB', status_key)[2]
  if n > 0 then
    local h = redis.call('HGETALL', status_key)
    local o = {}
    for i = 1, #h, 2 do o[h[i]] = h[i + 1] end
    redis.call('PUBLISH', status_key, cjson.encode(o))
  end
end
