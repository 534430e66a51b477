-- Reader fill after reading version V from the database: refused by an entry (E or A) at v >= V
-- or a tombstone at v > V, and refused when the database read began more than the maximum read
-- age ago by the Redis clock (by then the tombstone that would have refused it may have expired).
--
-- KEYS[1]  cache key
-- ARGV[1]  V, canonical decimal (0 .. 2^63-1; 0 = absent row without a version)
-- ARGV[2]  state to store: E (entry) or A (known absent)
-- ARGV[3]  TTL in milliseconds
-- ARGV[4]  data bytes (empty for A)
-- ARGV[5]  Redis time in ms when the database read began (from beginFill-1.lua)
-- ARGV[6]  maximum read age in ms (the sink's tombstone TTL)
-- Returns  1 filled, 0 refused by the guard, -1 refused because the read is too old;
--          error WRONGTYPE when the key is not a string.
--@include storedState
local key, incoming = KEYS[1], ARGV[1]
local now = redis.call('TIME')
-- Seconds since 1970 times 1000 stays far below 2^53: exact as a Lua number.
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if nowMs - tonumber(ARGV[5]) > tonumber(ARGV[6]) then return -1 end
local state, version = readHeader(key)
if state == 'W' then return wrongType(key) end
if not fillMayApply(state, version, incoming) then return 0 end
redis.call('SET', key, ARGV[2] .. incoming .. ':' .. ARGV[4], 'PX', ARGV[3])
return 1
