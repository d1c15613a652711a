-- wrk script: POST /api/v1/events/ for random members, each request a new event
-- (its event_id is the key: recorded once forever). The bench's two rules for
-- "bench.payment" (1 point per 10.00 and 5 points each) both match. Args: token,
-- member count, user_id prefix, first member number.
local counter = 0
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
  run = os.time()
  math.randomseed(run + tid * 7919)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  counter = counter + 1
  local member = first + math.random(0, members - 1)
  local body = string.format(
    '{"event_id":"bench-%d-%d-%d","user_id":"%s%d","event_type":"bench.payment",'
    .. '"amount":"%d.%02d","attributes":{"order":%d}}',
    run, tid, counter, prefix, member, math.random(10, 999), math.random(0, 99), counter)
  return wrk.format(nil, "/api/v1/events/", nil, body)
end
