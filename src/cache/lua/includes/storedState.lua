-- Included by every guard script (the loader replaces the `--@include storedState` line).
--
-- A cache key holds one Redis string: <state><version>:<data>
--   state    E entry, A known absent, T tombstone, L lease (data = the lease token)
--   version  canonical decimal: digits only, no leading zeros; 0 = no per-aggregate version
--            (lease-managed keys), otherwise 1 .. 9223372036854775807
--   data     the cached bytes (E), empty (A, T), or the lease token (L)
--
-- Versions reach 2^63-1, past the range a Lua number (a double) holds exactly, so they are
-- compared as canonical decimal strings: the shorter string is the smaller number; strings of
-- equal length compare byte by byte. tonumber is never used on a version.

local function versionLess(a, b)
  local la, lb = #a, #b
  if la ~= lb then return la < lb end
  if a == b then return false end
  for i = 1, la do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return false
end

-- Reads the header only (state + at most 19 digits + ':' = 21 bytes), never the data, so a guard
-- check costs the same whatever the value size. Returns state, version; nil when the key is
-- missing or holds a string this module did not write, including a non-canonical version (the
-- guard then treats it as no state); 'W' when the key holds another Redis type.
-- The offsets are passed as strings: Redis turns a Lua number argument into text with a float
-- formatter, which costs about half as much again as the GETRANGE itself.
local function readHeader(key)
  local head = redis.pcall('GETRANGE', key, '0', '20')
  if type(head) == 'table' then return 'W' end
  local state, version = string.match(head, '^([EATL])(%d+):')
  if state == nil or (string.byte(version) == 48 and #version > 1) then return nil end
  return state, version
end

-- Sink rule (invalidate, upsert, delete): applies only over a strictly lower version.
local function sinkMayApply(state, version, incoming)
  return state == nil or versionLess(version, incoming)
end

-- Reader fill rule: refused by an entry (E or A) at v >= V or by a tombstone at v > V; a fill at
-- the tombstone's own version is fresh (the reader saw the write that caused the tombstone).
local function fillMayApply(state, version, incoming)
  if state == 'E' or state == 'A' then return versionLess(version, incoming) end
  if state == 'T' then return not versionLess(incoming, version) end
  return true
end

local function wrongType(key)
  return redis.error_reply('WRONGTYPE cache key ' .. key .. ' holds a non-string value')
end
