-- Sink invalidate: store a tombstone at V unless the key holds a version >= V (a lease counts
-- with its floor and is revoked). With ARGV[3] = '1' the tombstone keeps the invalidated
-- entry's bytes, its version and Redis's time for bounded-stale reads.
--
-- KEYS[1]  cache key
-- ARGV[1]  V, canonical decimal (1 .. 2^63-1)
-- ARGV[2]  tombstone TTL in milliseconds
-- ARGV[3]  '1': keep the invalidated bytes (optional; default no)
-- Returns  1 applied, 0 stale; error on a non-canonical V; WRONGTYPE when the key is not a string.
--@include storedState
--@include keptBytes
local key, incoming = KEYS[1], ARGV[1]
if not isCanonical(incoming) then return redis.error_reply('ERR invalidateEntry: non-canonical version') end
local state, version = readHeader(key)
if state == 'W' then return wrongType(key) end
if not sinkMayApply(state, version, incoming) then return 0 end
local tombstone = 'T' .. incoming .. ':'
if ARGV[3] == '1' then tombstone = tombstoneKeepingBytes(key, state, version, incoming) end
redis.call('SET', key, tombstone, 'PX', ARGV[2])
return 1
