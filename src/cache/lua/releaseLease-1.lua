-- Reader gives up its lease without filling (the loader failed or timed out, or the value could
-- not be encoded), so readers waiting on the key need not wait out the lease TTL. The key goes
-- back to the tombstone at the lease's floor (kept bytes included), or is deleted when the floor
-- is 0. Anything else (another lease, a sink write, nothing) is left alone.
--
-- KEYS[1]  cache key
-- ARGV[1]  the reader's lease token
-- ARGV[2]  tombstone TTL in milliseconds
-- Returns  1 released, 0 the key did not hold this lease; error WRONGTYPE when not a string.
--@include storedState
--@include leaseState
local key, token = KEYS[1], ARGV[1]
local state, version = readHeader(key)
if state == 'W' then return wrongType(key) end
if state ~= 'L' or not holdsOwnLease(key, version, token) then return 0 end
releaseOwnLease(key, version, token, ARGV[2])
return 1
