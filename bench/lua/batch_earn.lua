-- wrk script: POST /api/v1/points/batch-earn/ with `size` earn operations each.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local size

common.posting(function(args) size = tonumber(args[5]) end, function(counter)
  local ops = {}
  for i = 1, size do
    ops[i] = string.format('{"user_id":"%s%d","points_amount":%d,"category":"community"}',
      prefix, first + math.random(0, members - 1), math.random(1, 50))
  end
  return "/api/v1/points/batch-earn/", '{"operations":[' .. table.concat(ops, ",") .. ']}',
         string.format("batch-%d-%d-%d", os.time(), tid, counter)
end)
