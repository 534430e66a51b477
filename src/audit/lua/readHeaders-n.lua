-- Auditor read: the header of each key's value, read-only.
--
-- KEYS[1..n]  cache keys (one hash slot on Redis Cluster)
-- ARGV[1]     last byte offset to read, e.g. 20 (the header `<state><version>:` fits in 21 bytes)
-- Returns     one string: for each key in order, one byte giving a length L (0..255) followed by
--             L bytes, GETRANGE 0 ARGV[1] of the key; L = 0 for a missing key and for a key that
--             does not hold a string (not a cache value the guard wrote). One reply instead of n
--             spares the client a buffer per key.
local out = {}
local last = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local header = ''
  if redis.call('TYPE', key).ok == 'string' then
    header = redis.call('GETRANGE', key, 0, last)
  end
  out[i] = string.char(#header) .. header
end
return table.concat(out)
