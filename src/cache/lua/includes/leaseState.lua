-- Included by the reader's scripts (acquireLease, fillEntry, releaseLease).

-- True when the key (whose header readHeader gave as 'L', floor) is this reader's own lease:
-- L<floor>:<token> followed by the end of the value or by ':' (kept bytes).
local function holdsOwnLease(key, floor, token)
  if token == '' then return false end
  local prefix = 'L' .. floor .. ':' .. token
  local head = redis.call('GETRANGE', key, '0', tostring(#prefix))
  return head == prefix or head == prefix .. ':'
end

-- Releases this reader's own lease: back to the tombstone at its floor (with the kept bytes) for
-- tombstoneTtl ms, so the floor survives, or deleted when the floor is 0 (taken over nothing).
local function releaseOwnLease(key, floor, token, tombstoneTtl)
  if floor == '0' then
    redis.call('DEL', key)
    return
  end
  local value = redis.call('GET', key)
  local kept = string.sub(value, #floor + #token + 4)
  redis.call('SET', key, 'T' .. floor .. ':' .. kept, 'PX', tombstoneTtl)
end
