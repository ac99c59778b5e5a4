-- POSTs one JSON body (a file written by bench/run.py) on every request, and reports the run as
-- one line, BENCH_RESULT {...}, that bench/run.py reads.
--
--   wrk ... -s bench/wrk/post.lua URL -- BODY_FILE IDS SESSIONS NONCE [TOKEN]
--
-- TOKEN, when given, is sent as `Authorization: Bearer TOKEN` (the accounts run).
--
-- When the body holds the marker __ID__, each request replaces it (IDS says with what):
--   random  a random session of the dataset (bench/workloads.py session_id: same format)
--   upper   a random session of the dataset's newer half
--   new     an id no request used before: NONCE, the thread and a counter (no CONFLICT)
-- Every answer is checked: a status other than 200, or a body with "errors" in it (a GraphQL
-- error answers 200), is counted, and bench/run.py refuses a measurement that has any.

local threads = {}
local thread_number = 0

function setup(thread)
   thread_number = thread_number + 1
   thread:set("thread_id", thread_number)
   table.insert(threads, thread)
end

bad_status = 0
graphql_errors = 0
local prefix, suffix, ids, sessions, nonce
local counter = 0

local function session_id(number)
   return string.format("%08x-0000-4000-8000-%012x", number, number)
end

local function templated_request()
   local id
   if ids == "random" then
      id = session_id(math.random(0, sessions - 1))
   elseif ids == "upper" then
      id = session_id(math.random(math.floor(sessions / 2), sessions - 1))
   else
      counter = counter + 1
      id = nonce .. "-" .. thread_id .. "-" .. counter
   end
   return wrk.format(nil, nil, nil, prefix .. id .. suffix)
end

function init(args)
   local file = assert(io.open(args[1], "rb"))
   local body = file:read("*a")
   file:close()
   ids, sessions, nonce = args[2], tonumber(args[3]), args[4]
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   if args[5] then
      wrk.headers["Authorization"] = "Bearer " .. args[5]
   end
   local first, last = body:find("__ID__", 1, true)
   if first then
      prefix, suffix = body:sub(1, first - 1), body:sub(last + 1)
      math.randomseed(os.time() + thread_id)
      request = templated_request  -- wrk asks for a request per request only when this exists
   else
      wrk.body = body  -- built once
   end
end

function response(status, headers, body)
   if status ~= 200 then
      bad_status = bad_status + 1
   elseif body:find('"errors"', 1, true) then
      graphql_errors = graphql_errors + 1
   end
end

function done(summary, latency, requests)
   local bad, errors = 0, 0
   for _, thread in ipairs(threads) do
      bad = bad + thread:get("bad_status")
      errors = errors + thread:get("graphql_errors")
   end
   local socket = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
         .. '"bad_status": %d, "graphql_errors": %d, "socket_errors": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), bad, errors, socket
   ))
end
