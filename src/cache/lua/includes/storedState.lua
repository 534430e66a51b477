-- Included by every guard script (the loader replaces the `--@include storedState` line).
--
-- A cache key holds one Redis string, starting with the header <state><version>: (see
-- src/cache/stored-value.ts for the full layout):
--   E<v>:<data>      entry               A<v>:     known absent
--   T<v>:[<kept>]    tombstone           L<floor>:<token>[:<kept>]   a reader's lease
--   kept = <invalidatedAtMs>:<staleVersion>:<bytes> of the invalidated entry (opt-in)
--   version  canonical decimal: digits only, no leading zeros, 0 .. 9223372036854775807; a
--            lease's version is its floor (the tombstone's version it replaced, 0 over nothing)
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

-- True for a canonical version (digits, no leading zero, at most 19 digits, <= 2^63-1).
local function isCanonical(v)
  if string.match(v, '^%d+$') == nil or #v > 19 then return false end
  if #v > 1 and string.byte(v) == 48 then return false end
  return not versionLess('9223372036854775807', v)
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

-- Sink rule (invalidate, upsert, delete): applies only over a strictly lower version; a lease
-- counts with its floor, and applying replaces (revokes) it.
local function sinkMayApply(state, version, incoming)
  return state == nil or versionLess(version, incoming)
end

local function wrongType(key)
  return redis.error_reply('WRONGTYPE cache key ' .. key .. ' holds a non-string value')
end
