-- Sink batch: applies many cache actions in one call, in order, each with the same rule as the
-- single-key scripts (upsertEntry-1, invalidateEntry-1, deleteEntry-1) plus lease revocation.
-- Atomic per key (the whole call is atomic); on Redis Cluster every key of one call must hash
-- to the same slot (the caller groups actions by slot).
--
-- KEYS[i]  cache key of action i (n = #KEYS actions; a key may repeat)
-- ARGV[1]  entry TTL in ms (the longest)
-- ARGV[2]  jitter span in ms: the i-th entry's TTL is ARGV[1] - floor(ARGV[2] * frac(seed + i * phi)),
--          phi = 0.618..., so each TTL is uniform over [ARGV[1] - ARGV[2], ARGV[1]] for a uniform
--          seed and the entries of one call spread evenly over that range
-- ARGV[3]  seed in [0, 1)
-- ARGV[4]  tombstone TTL in ms
-- ARGV[5]  known-absent TTL in ms
-- ARGV[6]  the n actions, packed one after another (one argument instead of four per action):
--            <kind><V>,<length>;<data of that length>
--            kind  u upsert, i invalidate, d delete, r revoke leases (drop the key)
--            V     canonical decimal version (0 for r); length 0 except for u
-- Returns  a string of n characters: '1' applied, '0' stale, 'w' key holds a non-string value
--          (left untouched; the other actions still apply); an error when ARGV[6] is malformed
--          (the actions before the malformed one are applied) or holds more than n actions.
--@include storedState
local entryTtl, span, seed = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local FIXED = { i = { 'T', ARGV[4] }, d = { 'A', ARGV[5] } }
local PHI = 0.6180339887498949
local packed, pos, out = ARGV[6], 1, {}
local size = #packed
for i = 1, #KEYS do
  local key = KEYS[i]
  local kind, incoming, length, at = string.match(packed, '^([uidr])(%d+),(%d+);()', pos)
  if kind ~= nil then pos = at + tonumber(length) end
  -- A packing bug must not write a misread action; the actions before it were read correctly.
  if kind == nil or pos > size + 1 then return redis.error_reply('ERR applyActions: malformed action ' .. i) end
  local state, version = readHeader(key)
  if state == 'W' then
    out[i] = 'w'
  elseif kind == 'r' then
    redis.call('DEL', key)
    out[i] = '1'
  elseif sinkMayApply(state, version, incoming) then
    if kind == 'u' then
      local ttl = entryTtl - math.floor(span * ((seed + (i - 1) * PHI) % 1))
      redis.call('SET', key, 'E' .. incoming .. ':' .. string.sub(packed, at, pos - 1), 'PX', ttl)
    else
      local fixed = FIXED[kind]
      redis.call('SET', key, fixed[1] .. incoming .. ':', 'PX', fixed[2])
    end
    out[i] = '1'
  else
    out[i] = '0'
  end
end
if pos ~= size + 1 then return redis.error_reply('ERR applyActions: ' .. #KEYS .. ' keys but more actions') end
return table.concat(out)
