-- Auditor read: the header of each key's value, read-only.
--
-- KEYS[1..n]  cache keys (one hash slot on Redis Cluster)
-- ARGV[1]     last byte offset to read, e.g. 20 (the header `<state><version>:` fits in 21 bytes)
-- Returns     an array of n strings, GETRANGE 0 ARGV[1] of each key: empty for a missing key and
--             for a key that does not hold a string (not a cache value the guard wrote).
local out = {}
local last = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  if redis.call('TYPE', key).ok == 'string' then
    out[i] = redis.call('GETRANGE', key, 0, last)
  else
    out[i] = ''
  end
end
return out
