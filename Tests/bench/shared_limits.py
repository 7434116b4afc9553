"""What counting limits in PostgreSQL costs a request (issue 17): one release `switchboard serve` on an SQLite
file and three on one PostgreSQL behind nginx, each answered by the mock; wrk sends Messages requests on a
virtual key with an rpm and a parallel limit (so every request is counted), then the same on the master key
(not counted). Prints requests a second and latency percentiles, and PostgreSQL's calls per request.

    swift build -c release --static-swift-stdlib && python3 Tests/bench/shared_limits.py [--duration 10]
"""

import argparse
import json
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "e2e"))
sys.path.insert(0, str(ROOT / "Tests" / "bench"))

import bench  # noqa: E402
import conftest  # noqa: E402
from replicas import Nginx, Postgres, admin, start_replicas  # noqa: E402

SQLITE_CONFIG = """
model_list:
  - {model_name: "claude-*", litellm_params: {model: mock/echo}}
general_settings: {master_key: sk-e2e-master, database_url: "sqlite://%s"}
"""


def measure(url: str, key: str, body: pathlib.Path, duration: int, concurrency: int) -> dict:
    bench.KEY = key  # the key bench.wrk sends
    return bench.wrk(url + "/v1/messages", body, concurrency, duration)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--bin-dir", default=str(ROOT / ".build" / "release"))
    arguments = parser.parse_args()
    conftest.BIN_DIR = pathlib.Path(arguments.bin_dir)
    folder = pathlib.Path(tempfile.mkdtemp(prefix="switchboard-bench-replicas-"))
    body = folder / "body.json"
    body.write_text(json.dumps({"model": "claude-sonnet-4-6", "max_tokens": 64,
                                "messages": [{"role": "user", "content": "Summarize the benefits of load balancing."}]}))
    limits = {"key_alias": "bench", "rpm_limit": 10_000_000, "max_parallel_requests": 1_000}
    rows = []

    single = conftest.Gateway(SQLITE_CONFIG % (folder / "switchboard.db"), folder)
    key = admin(single.url, "POST", "/key/generate", limits)["key"]
    rows.append(("SQLite, 1 replica, virtual key", measure(single.url, key, body, arguments.duration, arguments.concurrency)))
    rows.append(("SQLite, 1 replica, master key", measure(single.url, conftest.MASTER_KEY, body, arguments.duration, arguments.concurrency)))
    single.stop()

    postgres = Postgres()
    try:
        url = postgres.create_database("bench")
        replicas = start_replicas(url, folder)
        balancer = Nginx(replicas, folder)
        key = admin(replicas[0].url, "POST", "/key/generate", limits)["key"]
        calls_before = int(postgres.sql("bench", "SELECT SUM(xact_commit) FROM pg_stat_database WHERE datname = 'bench'")[0][0])
        shared = measure(balancer.url, key, body, arguments.duration, arguments.concurrency)
        calls_after = int(postgres.sql("bench", "SELECT SUM(xact_commit) FROM pg_stat_database WHERE datname = 'bench'")[0][0])
        rows.append(("PostgreSQL, 3 replicas behind nginx, virtual key", shared))
        rows.append(("PostgreSQL, 3 replicas behind nginx, master key",
                     measure(balancer.url, conftest.MASTER_KEY, body, arguments.duration, arguments.concurrency)))
        requests = shared["rps"] * arguments.duration
        balancer.close()
        for replica in replicas:
            replica.stop()
    finally:
        postgres.close()

    print(f"{'setup':52} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, result in rows:
        print(f"{name:52} {result['rps']:9.0f} {result['p50']:8.2f} {result['p99']:8.2f} {result['errors']:7d}")
    print(f"PostgreSQL transactions per counted request: {(calls_after - calls_before) / requests:.2f}")


if __name__ == "__main__":
    main()
