-- Included by the scripts that apply sink actions: collects every key the call changed, with its
-- new version, and publishes them in one message at the end of the call (DESIGN.md §4a), so no
-- applied change goes unannounced to the in-process L1 tiers. The message is the keys packed as
-- <version>;<key length in bytes>;<key>, version canonical decimal or R (leases revoked: drop the
-- key whatever its version). One message per call, not per key: a publish costs about as much as
-- a SET, and a call holds up to a few hundred actions.

local announced = {}

local function announce(key, version)
  announced[#announced + 1] = version .. ';' .. #key .. ';' .. key
end

-- channel: '' to publish nothing; mode: 'S' sharded (SPUBLISH, Redis Cluster: the channel must be
-- in the slot of the call's keys) or 'P' (PUBLISH).
local function publishAnnounced(channel, mode)
  if channel == nil or channel == '' or #announced == 0 then return end
  redis.call(mode == 'S' and 'SPUBLISH' or 'PUBLISH', channel, table.concat(announced))
end
