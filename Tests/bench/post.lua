-- wrk script: POST the body in $BENCH_BODY with JSON headers (and a key when $BENCH_KEY is set).
local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["content-type"] = "application/json"
wrk.headers["anthropic-version"] = "2023-06-01"
local key = os.getenv("BENCH_KEY")
if key and key ~= "" then wrk.headers["x-api-key"] = key end
