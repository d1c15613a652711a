-- wrk script: POST /api/v1/events/ for random members, each request a new event
-- (its event_id is the key: recorded once forever). The bench's two rules for
-- "bench.payment" (1 point per 10.00 and 5 points each) both match. Args: token,
-- member count, user_id prefix, first member number.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

common.posting(nil, function(counter)
  local member = first + math.random(0, members - 1)
  local body = string.format(
    '{"event_id":"bench-%d-%d-%d","user_id":"%s%d","event_type":"bench.payment",'
    .. '"amount":"%d.%02d","attributes":{"order":%d}}',
    run, tid, counter, prefix, member, math.random(10, 999), math.random(0, 99), counter)
  return "/api/v1/events/", body, nil
end)
