-- Sink batch: applies many cache actions in one call, in order, each with the same rule as the
-- single-key scripts (upsertEntry-1, invalidateEntry-1, deleteEntry-1) plus lease revocation.
-- Atomic per key (the whole call is atomic); on Redis Cluster every key of one call must hash
-- to the same slot (the caller groups actions by slot).
--
-- KEYS[i]  cache key of action i (n = #KEYS actions; a key may repeat)
-- ARGV[1]  entry TTL in ms (the longest)
-- ARGV[2]  jitter span in ms: action i stores its entry with TTL ARGV[1] - floor(ARGV[2] * frac(seed + (i-1) * phi)),
--          phi = 0.618..., so each TTL is uniform over [ARGV[1] - ARGV[2], ARGV[1]] for a uniform
--          seed and the entries of one call spread evenly over that range
-- ARGV[3]  seed in [0, 1)
-- ARGV[4]  tombstone TTL in ms
-- ARGV[5]  known-absent TTL in ms
-- ARGV[6]  the n actions, packed one after another (one argument instead of four per action):
--            <length>;<value to store, of that length>
--            the value to store is in the stored layout: E<V>:<data> (upsert), T<V>: (invalidate),
--            A<V>: (delete), or R0: (revoke leases: drop the key); V canonical decimal
-- Returns  a string of n characters: '1' applied, '0' stale, 'w' key holds a non-string value
--          (left untouched; the other actions still apply); an error when ARGV[6] is malformed
--          (the actions before the malformed one are applied) or holds more than n actions.
--@include storedState
local entryTtl, span, seed = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local FIXED_TTL = { T = ARGV[4], A = ARGV[5] }
local PHI = 0.6180339887498949
local packed, pos, out = ARGV[6], 1, {}
local size = #packed
for i = 1, #KEYS do
  local key = KEYS[i]
  local length, at, kind, incoming = string.match(packed, '^(%d+);()([EATR])(%d+):', pos)
  if kind ~= nil then pos = at + tonumber(length) end
  -- A packing bug must not write a misread action; the actions before it were read correctly.
  -- Versions are canonical (no leading zero), or the string comparison would be wrong.
  if kind == nil or pos > size + 1 or (kind ~= 'R' and string.byte(incoming) == 48) then
    return redis.error_reply('ERR applyActions: malformed action ' .. i)
  end
  local state, version = readHeader(key)
  if state == 'W' then
    out[i] = 'w'
  elseif kind == 'R' then
    redis.call('DEL', key)
    out[i] = '1'
  elseif sinkMayApply(state, version, incoming) then
    local ttl = FIXED_TTL[kind] or entryTtl - math.floor(span * ((seed + (i - 1) * PHI) % 1))
    redis.call('SET', key, string.sub(packed, at, pos - 1), 'PX', ttl)
    out[i] = '1'
  else
    out[i] = '0'
  end
end
if pos ~= size + 1 then return redis.error_reply('ERR applyActions: ' .. #KEYS .. ' keys but more actions') end
return table.concat(out)
