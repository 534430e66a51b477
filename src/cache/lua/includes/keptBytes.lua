-- Included by the sink's invalidate scripts when the sink keeps invalidated bytes (bounded-stale
-- serving, opt-in). Redis's clock stamps the invalidation.

-- Now in ms since 1970 as decimal text (exact: built from TIME's two fields as strings).
local function redisNowMs()
  local t = redis.call('TIME')
  return t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
end

-- The tombstone at `incoming` that replaces the key's state (state, version as readHeader gave
-- them), keeping the bytes a reader may serve stale: an entry's data with its version and now;
-- a tombstone's or lease's kept bytes as they are (the first invalidation's time still counts).
local function tombstoneKeepingBytes(key, state, version, incoming)
  if state == 'E' then
    local value = redis.call('GET', key)
    return 'T' .. incoming .. ':' .. redisNowMs() .. ':' .. version .. ':' .. string.sub(value, #version + 3)
  end
  if state == 'T' or state == 'L' then
    local value = redis.call('GET', key)
    local from = #version + 3
    -- A lease's kept bytes follow its token.
    if state == 'L' then
      local colon = string.find(value, ':', from, true)
      from = colon and colon + 1 or #value + 1
    end
    return 'T' .. incoming .. ':' .. string.sub(value, from)
  end
  return 'T' .. incoming .. ':'
end
