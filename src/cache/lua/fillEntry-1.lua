-- Reader fill after reading version V from the database (guard v2). Applies only
--   (a) while the key still holds this reader's own lease and V >= its floor, or
--   (b) over an entry/absent at v < V.
-- Nothing else fills: a missing key refuses (the lease expired, or the state was evicted or
-- lost, so a read that began before can never re-fill it), and so do a tombstone and another
-- reader's lease (a sink write or another reader replaced ours). Under its own lease with
-- V < floor (a lagging replica), the lease is released back to the tombstone at its floor.
--
-- KEYS[1]  cache key
-- ARGV[1]  V, canonical decimal (0 .. 2^63-1; 0 = no per-aggregate version)
-- ARGV[2]  state to store: E (entry) or A (known absent)
-- ARGV[3]  TTL in milliseconds
-- ARGV[4]  data bytes (empty for A)
-- ARGV[5]  the reader's lease token ('' when it holds none)
-- ARGV[6]  tombstone TTL in milliseconds (for a released lease's tombstone)
-- Returns  1 filled, 0 refused by the guard, -1 refused because the key is missing;
--          error on a non-canonical V or state; error WRONGTYPE when the key is not a string.
--@include storedState
--@include leaseState
local key, incoming, token = KEYS[1], ARGV[1], ARGV[5]
if not isCanonical(incoming) then return redis.error_reply('ERR fillEntry: non-canonical version') end
if ARGV[2] ~= 'E' and ARGV[2] ~= 'A' then return redis.error_reply('ERR fillEntry: state must be E or A') end
local state, version = readHeader(key)
if state == 'W' then return wrongType(key) end
if state == nil then return -1 end
if state == 'E' or state == 'A' then
  if not versionLess(version, incoming) then return 0 end
elseif state == 'L' and holdsOwnLease(key, version, token) then
  if versionLess(incoming, version) then
    releaseOwnLease(key, version, token, ARGV[6])
    return 0
  end
else
  return 0
end
redis.call('SET', key, ARGV[2] .. incoming .. ':' .. ARGV[4], 'PX', ARGV[3])
return 1
