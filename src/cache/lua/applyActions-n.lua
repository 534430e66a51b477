-- Sink batch: applies many cache actions in one call, in order, each with the same rule as the
-- single-key scripts (upsertEntry-1, invalidateEntry-1, deleteEntry-1) plus lease revocation.
-- Atomic per key (the whole call is atomic); on Redis Cluster every key of one call must hash
-- to the same slot (the caller groups actions by slot).
--
-- KEYS[i]  cache key of action i (n = #KEYS actions; a key may repeat)
-- ARGV[1]  the n actions, packed one after another (one argument instead of five per action):
--            <length>;<ttl>;<value to store, of <length> bytes>
--            ttl: PX of the stored value in ms, canonical decimal (the caller applies the TTL
--            jitter; passed as text because Redis formats a Lua number argument with a float
--            formatter that costs a third of the SET it feeds); 0 for a revoke
--            the value to store is in the stored layout: E<V>:<data> (upsert), T<V>: (invalidate),
--            A<V>: (delete), S<V>: (invalidate keeping the invalidated entry's bytes for
--            bounded-stale reads: stores T<V>:<invalidatedAtMs>:<staleVersion>:<bytes>, see
--            keptBytes.lua), or R0: (revoke leases: drop the key); V canonical decimal.
--            A lease counts with its floor; applying replaces (revokes) it.
-- Returns  a string of n characters: '1' applied, '0' stale, 'w' key holds a non-string value
--          (left untouched; the other actions still apply); an error when ARGV[1] is malformed
--          (the actions before the malformed one are applied) or holds more than n actions.
--@include storedState
--@include keptBytes
local packed, pos, out = ARGV[1], 1, {}
local size = #packed
for i = 1, #KEYS do
  local key = KEYS[i]
  local length, ttl, at, kind, incoming = string.match(packed, '^(%d+);(%d+);()([EATRS])(%d+):', pos)
  if kind ~= nil then pos = at + tonumber(length) end
  -- A packing bug must not write a misread action; the actions before it were read correctly.
  -- Versions are canonical (no leading zero), or the string comparison would be wrong; a TTL
  -- with a leading zero (or 0) would make the SET fail halfway through the call.
  if kind == nil or pos > size + 1 or (kind ~= 'R' and (string.byte(incoming) == 48 or string.byte(ttl) == 48)) then
    return redis.error_reply('ERR applyActions: malformed action ' .. i)
  end
  local state, version = readHeader(key)
  if state == 'W' then
    out[i] = 'w'
  elseif kind == 'R' then
    redis.call('DEL', key)
    out[i] = '1'
  elseif sinkMayApply(state, version, incoming) then
    local value
    if kind == 'S' then value = tombstoneKeepingBytes(key, state, version, incoming)
    else value = string.sub(packed, at, pos - 1) end
    redis.call('SET', key, value, 'PX', ttl)
    out[i] = '1'
  else
    out[i] = '0'
  end
end
if pos ~= size + 1 then return redis.error_reply('ERR applyActions: ' .. #KEYS .. ' keys but more actions') end
return table.concat(out)
