-- wrk script: POST /api/v1/points/batch-earn/ with `size` earn operations each.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local counter = 0

setup = common.setup

function init(args)
  common.init(args)
  size = tonumber(args[5])
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
