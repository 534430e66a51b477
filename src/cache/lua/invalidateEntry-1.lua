-- Sink invalidate: store a tombstone at V unless the key holds a version >= V.
--
-- KEYS[1]  cache key
-- ARGV[1]  V, canonical decimal (1 .. 2^63-1)
-- ARGV[2]  tombstone TTL in milliseconds
-- Returns  1 applied, 0 stale; error WRONGTYPE when the key is not a string.
--@include storedState
local key, incoming = KEYS[1], ARGV[1]
local state, version = readHeader(key)
if state == 'W' then return wrongType(key) end
if not sinkMayApply(state, version, incoming) then return 0 end
redis.call('SET', key, 'T' .. incoming .. ':', 'PX', ARGV[2])
return 1
