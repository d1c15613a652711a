-- wrk script: POST /api/v1/points/earn/ for random members, each request with
-- its own idempotency key (the full write path). Args: token, member count,
-- user_id prefix, first member number, and optionally another path to post to
-- (bench_api's reference endpoints, which ignore the token and the key).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local path

common.posting(function(args) path = args[5] or "/api/v1/points/earn/" end, function(counter)
  local member = first + math.random(0, members - 1)
  local body = string.format(
    '{"user_id":"%s%d","points_amount":%d,"category":"payment","reason":"bench order %d"}',
    prefix, member, math.random(1, 100), counter)
  return path, body, string.format("bench-%d-%d-%d", os.time(), tid, counter)
end)
