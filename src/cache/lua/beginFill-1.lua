-- Reader miss, before the database read: returns the Redis clock (the read's start time for
-- fillEntry-1.lua, so the age check uses one clock) and the key's current value (another reader
-- may have filled it since the GET that missed).
--
-- KEYS[1]  cache key
-- Returns  { now in ms since 1970 (integer), stored value or nil }
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
return { nowMs, redis.call('GET', KEYS[1]) }
