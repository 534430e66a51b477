-- Flush through the guard: turns each key's entry or "known absent" into a tombstone at its own
-- version, and a reader's lease into a tombstone at its floor (revoking it), so the version floor
-- survives the flush and a fill that began before it is refused. Never a DEL: a missing key would
-- let a read that began before the flush fill an old version. Tombstones, foreign strings and
-- other types are left alone. Kept stale bytes are dropped (a flush distrusts the old state).
-- On Redis Cluster every key of one call must hash to the same slot (the caller groups by slot).
--
-- KEYS[i]  cache key i
-- ARGV[1]  tombstone TTL in milliseconds
-- ARGV[2]  invalidation channel of the L1 tiers ('' or absent: none): every key turned into a
--          tombstone is announced as revoked (R), so an L1 entry at the same version drops too
-- ARGV[3]  'S' to publish with SPUBLISH (Redis Cluster), else PUBLISH
-- Returns  a string of #KEYS characters: 'e' entry, 'a' absent, 'l' lease turned into a
--          tombstone; 't' already a tombstone, 'm' missing, 'f' foreign string, 'x' not a string.
--@include storedState
--@include announce
local ttl, out = ARGV[1], {}
local done = { E = 'e', A = 'a', L = 'l' }
for i = 1, #KEYS do
  local key = KEYS[i]
  local state, version = readHeader(key)
  if state == 'W' then
    out[i] = 'x'
  elseif state == nil then
    out[i] = redis.call('EXISTS', key) == 1 and 'f' or 'm'
  elseif state == 'T' then
    out[i] = 't'
  else
    redis.call('SET', key, 'T' .. version .. ':', 'PX', ttl)
    announce(key, 'R')
    out[i] = done[state]
  end
end
publishAnnounced(ARGV[2], ARGV[3])
return table.concat(out)
