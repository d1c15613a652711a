-- wrk script: POST /api/v1/points/earn/ for random members, each request with
-- its own idempotency key (the full write path). Args: token, member count,
-- user_id prefix, first member number, and optionally another path to post to
-- (bench_api's reference endpoints, which ignore the token and the key).
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  token = args[1]
  members = tonumber(args[2])
  prefix = args[3]
  first = tonumber(args[4])
  path = args[5] or "/api/v1/points/earn/"
  math.randomseed(os.time() + tid * 7919)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  counter = counter + 1
  local member = first + math.random(0, members - 1)
  local body = string.format(
    '{"user_id":"%s%d","points_amount":%d,"category":"payment","reason":"bench order %d"}',
    prefix, member, math.random(1, 100), counter)
  wrk.headers["Idempotency-Key"] = string.format("bench-%d-%d-%d", os.time(), tid, counter)
  return wrk.format(nil, path, nil, body)
end
