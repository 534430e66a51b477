-- Sink batch: applies many cache actions in one call, in order, each with the same rule as the
-- single-key scripts (upsertEntry-1, invalidateEntry-1, deleteEntry-1) plus lease revocation.
-- Atomic per key (the whole call is atomic); on Redis Cluster every key of one call must hash
-- to the same slot (the caller groups actions by slot).
--
-- KEYS[i]  cache key of action i (n = #KEYS actions; a key may repeat)
-- ARGV     four per action i, from ARGV[4i-3]:
--            kind     u upsert, i invalidate, d delete, r revoke leases (drop the key)
--            V        canonical decimal version (ignored for r)
--            ttl      TTL in milliseconds of the state stored (ignored for r)
--            data     entry bytes for u, empty otherwise
-- Returns  a string of n characters: '1' applied, '0' stale, 'w' key holds a non-string value
--          (left untouched; the other actions still apply).
--@include storedState
local STATE_OF = { u = 'E', i = 'T', d = 'A' }
local out = {}
for i = 1, #KEYS do
  local key, base = KEYS[i], 4 * i - 3
  local kind, incoming = ARGV[base], ARGV[base + 1]
  local state, version = readHeader(key)
  if state == 'W' then
    out[i] = 'w'
  elseif kind == 'r' then
    redis.call('DEL', key)
    out[i] = '1'
  elseif sinkMayApply(state, version, incoming) then
    redis.call('SET', key, STATE_OF[kind] .. incoming .. ':' .. ARGV[base + 3], 'PX', ARGV[base + 2])
    out[i] = '1'
  else
    out[i] = '0'
  end
end
return table.concat(out)
