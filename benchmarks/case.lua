-- One bench case for wrk, configured by bench.py through the environment:
--   BENCH_METHOD  GET (default) or POST
--   BENCH_PATH    the path; with BENCH_IDS, the prefix each request appends an id to
--   BENCH_IDS     a file of ids, one a line: every request picks one at random (cold reads)
--   BENCH_BODY    a JSON body sent with every request
--   BENCH_BODY_FILE  a file whose bytes are the body (any bytes: NUL, invalid UTF-8)
--   BENCH_DELAY_MS   each connection waits this long before each request (a probe)
-- done() prints one line "BENCH_RESULT {json}" that bench.py parses, with every latency
-- recorded (value in us and how many requests took it), so runs can be pooled exactly.

local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local body = os.getenv("BENCH_BODY")
local body_file = os.getenv("BENCH_BODY_FILE")
if body_file then
  local file = assert(io.open(body_file, "rb"))
  body = file:read("*a")
  file:close()
end
local ids_file = os.getenv("BENCH_IDS")
local headers = {}
if body then
  headers["Content-Type"] = "application/json"
end

local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

local ids = {}
if ids_file then
  for line in io.lines(ids_file) do
    ids[#ids + 1] = line
  end
end

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end

function request()
  if #ids > 0 then
    return wrk.format(method, path .. ids[math.random(#ids)], headers, body)
  end
  return wrk.format(method, path, headers, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  local recorded = {}
  for i = 1, #latency do
    local value, count = latency(i)
    recorded[i] = string.format("[%d,%d]", value, count)
  end
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p99_us": %d, "max_us": %d, "latency_us": [%s]}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, table.concat(recorded, ",")))
end
