-- Sink upsert: store the entry (V, data) unless the key holds a version >= V (a lease counts
-- with its floor and is revoked).
--
-- KEYS[1]  cache key
-- ARGV[1]  V, canonical decimal (1 .. 2^63-1)
-- ARGV[2]  entry TTL in milliseconds (the caller applies the jitter)
-- ARGV[3]  data bytes
-- Returns  1 applied, 0 stale; error on a non-canonical V; WRONGTYPE when the key is not a string.
--@include storedState
local key, incoming = KEYS[1], ARGV[1]
if not isCanonical(incoming) then return redis.error_reply('ERR upsertEntry: non-canonical version') end
local state, version = readHeader(key)
if state == 'W' then return wrongType(key) end
if not sinkMayApply(state, version, incoming) then return 0 end
redis.call('SET', key, 'E' .. incoming .. ':' .. ARGV[3], 'PX', ARGV[2])
return 1
