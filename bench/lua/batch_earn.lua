-- wrk script: POST /api/v1/points/batch-earn/ with `size` earn operations each.
local counter = 0

function setup(thread)
  thread:set("tid", math.random(1, 1000000))
end

function init(args)
  token = args[1]
  members = tonumber(args[2])
  prefix = args[3]
  first = tonumber(args[4])
  size = tonumber(args[5])
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  counter = counter + 1
  local ops = {}
  for i = 1, size do
    ops[i] = string.format('{"user_id":"%s%d","points_amount":%d,"category":"community"}',
      prefix, first + math.random(0, members - 1), math.random(1, 50))
  end
  wrk.headers["Idempotency-Key"] = string.format("batch-%d-%d-%d", os.time(), tid, counter)
  return wrk.format(nil, "/api/v1/points/batch-earn/", nil,
                    '{"operations":[' .. table.concat(ops, ",") .. ']}')
end
