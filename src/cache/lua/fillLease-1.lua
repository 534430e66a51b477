-- Reader fill of a lease-managed key: stores the entry only while the key still holds the lease
-- with this token (not revoked by an invalidation, not expired, not consumed by another fill).
--
-- KEYS[1]  cache key
-- ARGV[1]  lease token
-- ARGV[2]  state to store: E (entry) or A (known absent)
-- ARGV[3]  TTL in milliseconds
-- ARGV[4]  data bytes (empty for A)
-- Returns  1 filled, 0 refused; error WRONGTYPE when the key is not a string.
local key, lease = KEYS[1], 'L0:' .. ARGV[1]
-- Compares the prefix and the length rather than GET, so a large entry is never copied.
if redis.call('GETRANGE', key, 0, #lease - 1) ~= lease then return 0 end
if redis.call('STRLEN', key) ~= #lease then return 0 end
redis.call('SET', key, ARGV[2] .. '0:' .. ARGV[4], 'PX', ARGV[3])
return 1
