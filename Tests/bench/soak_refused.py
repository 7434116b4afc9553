"""Soak: requests whose upstream refuses the connection must leave Switchboard's memory flat.

    python3 Tests/bench/soak_refused.py [--switchboard .build/debug/switchboard] [--requests 5000]

Starts Switchboard with a Gemini deployment whose api_base is a closed loopback port, sends
Claude-Code-sized requests (≈85 KB, request_bodies.large) through it, and reads its RSS after a
warm-up and at the end. A transfer that failed before its response head used to keep its request
body (and key) for good: 5,000 of these would hold ≈400 MB. Exits 1 when RSS grows by more than
--limit-mb between the warm-up and the end, or when any answer is a 200.
"""

import argparse
import concurrent.futures
import http.client
import json
import pathlib
import shutil
import signal
import subprocess
import sys
import time

from bench import ROOT, KEY, free_port, rss_kb, wait_for
import request_bodies as bodies


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--switchboard", default=str(ROOT / ".build/debug/switchboard"))
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--limit-mb", type=float, default=32.0,
                        help="allowed RSS growth after the warm-up (the leak was ≈85 KB per request)")
    args = parser.parse_args()

    workdir = ROOT / ".build-bench" / "soak-refused"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    closed_port = free_port()  # bound and released: nothing listens there
    port = free_port()
    config = workdir / "switchboard.yaml"
    config.write_text(f"""
model_list:
  - model_name: refused
    litellm_params: {{model: gemini/gemini-2.5-flash, api_key: sk-soak-key, api_base: "http://127.0.0.1:{closed_port}/v1beta"}}
general_settings:
  master_key: {KEY}
switchboard:
  state_dir: "{workdir}"
""")
    log = open(workdir / "switchboard.log", "w")
    process = subprocess.Popen(
        [args.switchboard, "serve", "--config", str(config), "--port", str(port), "--log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_for(f"http://127.0.0.1:{port}/health", process)
        body = json.dumps(bodies.large("refused", False)).encode()
        headers = {"content-type": "application/json", "x-api-key": KEY, "anthropic-version": "2023-06-01"}

        def worker(count):
            statuses = []
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(count):
                connection.request("POST", "/v1/messages", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                statuses.append(response.status)
            connection.close()
            return statuses

        def run(total):
            share = [total // args.concurrency + (1 if i < total % args.concurrency else 0)
                     for i in range(args.concurrency)]
            with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
                return [status for statuses in pool.map(worker, share) for status in statuses]

        started = time.monotonic()
        statuses = run(args.warmup)
        time.sleep(0.5)  # let the last transfers leave the loop
        warm_kb = rss_kb(process.pid)
        statuses += run(args.requests - args.warmup)
        time.sleep(0.5)
        end_kb = rss_kb(process.pid)
        seconds = time.monotonic() - started
        growth_mb = (end_kb - warm_kb) / 1024
        answers = {status: statuses.count(status) for status in sorted(set(statuses))}
        print(f"{len(statuses)} requests to a refusing upstream in {seconds:.1f} s, answers {answers}; "
              f"RSS after {args.warmup}: {warm_kb / 1024:.1f} MB, after {len(statuses)}: {end_kb / 1024:.1f} MB "
              f"(+{growth_mb:.1f} MB, limit {args.limit_mb:.0f} MB)")
        if 200 in answers or len(statuses) != args.requests:
            print("FAILED: a refused upstream must not produce a 200, and every request needs an answer")
            return 1
        if growth_mb > args.limit_mb:
            print("FAILED: memory grows with refused requests")
            return 1
        return 0
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    sys.exit(main())
