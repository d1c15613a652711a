-- What every bench wrk script shares: a number per wrk thread (`tid`, unique, so
-- keys built from it never collide between threads), the common args (token,
-- member count, user_id prefix, first member number) and the JSON + bearer headers.
-- Loaded with dofile from the script's own folder (wrk runs from any directory).
local common = {}
local threads = {}

function common.setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function common.init(args)
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

-- Makes the calling script a wrk script that posts: wrk's setup; init, which reads
-- the common args and hands them to `more` (if any) for the script's own; and
-- request, which numbers each request and posts what `build(counter)` returns:
-- the path, the body and the Idempotency-Key (nil for none).
function common.posting(more, build)
  local counter = 0
  setup = common.setup
  init = function(args)
    common.init(args)
    if more then more(args) end
  end
  request = function()
    counter = counter + 1
    local path, body, key = build(counter)
    wrk.headers["Idempotency-Key"] = key
    return wrk.format(nil, path, nil, body)
  end
end

return common
