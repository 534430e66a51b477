-- Batch form of fillEntry-1.lua for backfill: each key is filled with the same rule, i.e. only
--   (a) while it still holds this batch's lease (token) and V >= the lease's floor, or
--   (b) over an entry/absent at v < V;
-- a missing key, a tombstone or another reader's lease refuse; under its own lease with V below
-- the floor the lease is released back to the tombstone at its floor.
-- On Redis Cluster every key of one call must hash to the same slot (the caller groups by slot).
--
-- KEYS[i]          cache key i
-- ARGV[1]          the batch's lease token ('' when it took none)
-- ARGV[2]          tombstone TTL in milliseconds (for a released lease's tombstone)
-- ARGV[4i-1 .. 4i+2]  for key i: V (canonical decimal), state E or A, TTL in ms, data bytes
-- then, optionally, two more: the L1 tiers' invalidation channel and 'S' (SPUBLISH, Cluster) or
-- 'P'; a fill over an older entry raises the key's version without a sink write, so it is
-- announced like one (fillEntry-1.lua does the same)
-- Returns  a string of #KEYS characters: '1' filled, '0' refused by the guard, 'm' refused
--          because the key is missing, 'x' not a string; an error (nothing after the bad
--          key written) on a non-canonical V or a bad state.
--@include storedState
--@include leaseState
--@include announce
local token, tombstoneTtl, out = ARGV[1], ARGV[2], {}
local channel, mode
if #ARGV == 4 + 4 * #KEYS then channel, mode = ARGV[#ARGV - 1], ARGV[#ARGV]
elseif #ARGV ~= 2 + 4 * #KEYS then return redis.error_reply('ERR fillEntries: expected 4 arguments per key') end
for i = 1, #KEYS do
  local key, at = KEYS[i], 4 * i - 1
  local incoming, fillState, ttl, data = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
  if not isCanonical(incoming) then
    publishAnnounced(channel, mode)
    return redis.error_reply('ERR fillEntries: non-canonical version for key ' .. i)
  end
  if fillState ~= 'E' and fillState ~= 'A' then
    publishAnnounced(channel, mode)
    return redis.error_reply('ERR fillEntries: state must be E or A')
  end
  local state, version = readHeader(key)
  local apply = false
  if state == 'W' then
    out[i] = 'x'
  elseif state == nil then
    out[i] = 'm'
  elseif state == 'E' or state == 'A' then
    apply = versionLess(version, incoming)
    if apply then announce(key, incoming) end
  elseif state == 'L' and holdsOwnLease(key, version, token) then
    if versionLess(incoming, version) then releaseOwnLease(key, version, token, tombstoneTtl) else apply = true end
  end
  if apply then
    redis.call('SET', key, fillState .. incoming .. ':' .. data, 'PX', ttl)
    out[i] = '1'
  elseif out[i] == nil then
    out[i] = '0'
  end
end
publishAnnounced(channel, mode)
return table.concat(out)
