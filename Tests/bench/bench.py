"""Switchboard beside LiteLLM against nginx playing a fake Gemini, driven by wrk, on loopback.

    make bench          # full run: release build, LiteLLM from PyPI, table into docs/performance.md
    make bench-smoke    # seconds: debug build, no LiteLLM, nothing written (part of make test)

Prints one table: p50 / p99 latency, latency added over direct nginx, requests per second and peak
RSS per target, and the Switchboard/LiteLLM ratios; then a memory run of concurrent slow streams.
"""

import argparse
import asyncio
import datetime
import json
import os
import pathlib
import platform
import re
import signal
import socket
import shutil
import subprocess
import sys
import time
import urllib.request

import request_bodies as bodies

ROOT = pathlib.Path(__file__).resolve().parents[2]
KEY = "sk-bench"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url, process, timeout=60, headers=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} never answered")


def rss_kb(pid, field="VmRSS"):
    """RSS (or the peak, VmHWM) of a process and its children, in KiB."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = pathlib.Path(f"/proc/{current}/status").read_text()
            total += int(re.search(rf"{field}:\s+(\d+)", status).group(1))
            for task in pathlib.Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pids.extend(int(child) for child in children)
        except (OSError, AttributeError):
            pass
    return total


class Stack:
    """nginx as the fake Gemini, Switchboard and (optionally) LiteLLM, all on 127.0.0.1."""

    def __init__(self, workdir, switchboard_bin, litellm_bin):
        self.workdir = workdir
        self.processes = []
        self.nginx_port = free_port()
        (workdir / "gemini.json").write_text(bodies.GEMINI_JSON)
        (workdir / "gemini.sse").write_text(bodies.GEMINI_SSE)
        config = workdir / "nginx.conf"
        config.write_text(f"""
daemon off;
worker_processes 1;
error_log stderr error;
pid {workdir}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {workdir};
    proxy_temp_path {workdir};
    fastcgi_temp_path {workdir};
    uwsgi_temp_path {workdir};
    scgi_temp_path {workdir};
    client_max_body_size 64m;
    client_body_buffer_size 1m;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{self.nginx_port};
        location ~ :streamGenerateContent$ {{ default_type text/event-stream; return 200 '{bodies.GEMINI_SSE}'; }}
        location ~ :generateContent$ {{ default_type application/json; return 200 '{bodies.GEMINI_JSON}'; }}
        location / {{ default_type application/json; return 200 '{bodies.GEMINI_JSON}'; }}
    }}
}}
""")
        self.nginx = self.start(["/usr/sbin/nginx", "-c", str(config), "-p", str(workdir), "-e", "stderr"])
        self.gemini_base = f"http://127.0.0.1:{self.nginx_port}/v1beta"

        self.switchboard_port = free_port()
        sb_config = workdir / "switchboard.yaml"
        sb_config.write_text(f"""
model_list:
  - model_name: bench
    litellm_params: {{model: gemini/gemini-2.5-flash, api_key: k, api_base: "{self.gemini_base}"}}
  - model_name: slow-stream
    litellm_params: {{model: mock/slow, mock_chunk_chars: 1, mock_delay_ms: 40}}
general_settings:
  master_key: {KEY}
switchboard:
  graceful_shutdown_seconds: 5
""")
        self.switchboard = self.start(
            [str(switchboard_bin), "serve", "--config", str(sb_config), "--port", str(self.switchboard_port), "--log-level", "error"]
        )
        wait_for(f"http://127.0.0.1:{self.switchboard_port}/health", self.switchboard)
        time.sleep(0.5)
        self.switchboard_idle_kb = rss_kb(self.switchboard.pid)

        self.litellm = None
        if litellm_bin:
            self.litellm_port = free_port()
            ll_config = workdir / "litellm.yaml"
            ll_config.write_text(f"""
model_list:
  - model_name: bench
    litellm_params: {{model: gemini/gemini-2.5-flash, api_key: k, api_base: "{self.gemini_base}"}}
litellm_settings: {{drop_params: true}}
general_settings: {{master_key: {KEY}}}
""")
            env = {**os.environ, "LITELLM_LOG": "ERROR", "LITELLM_TELEMETRY": "False", "DISABLE_SCHEMA_UPDATE": "true"}
            self.litellm = self.start(
                [str(litellm_bin), "--config", str(ll_config), "--host", "127.0.0.1", "--port", str(self.litellm_port)], env=env
            )
            wait_for(f"http://127.0.0.1:{self.litellm_port}/health/liveliness", self.litellm, timeout=180)

    def start(self, args, env=None):
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(self.workdir / f"{pathlib.Path(args[0]).name}.log", "w"), env=env)
        self.processes.append(process)
        return process

    def targets(self):
        targets = [("direct", f"http://127.0.0.1:{self.nginx_port}/v1beta/models/gemini-2.5-flash:generateContent", None),
                   ("switchboard", f"http://127.0.0.1:{self.switchboard_port}/v1/messages", self.switchboard)]
        if self.litellm:
            targets.append(("litellm", f"http://127.0.0.1:{self.litellm_port}/v1/messages", self.litellm))
        return targets

    def stop(self):
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


LATENCY = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")


def wrk(url, body_file, concurrency, duration):
    env = {**os.environ, "BENCH_BODY": str(body_file), "BENCH_KEY": KEY}
    threads = min(concurrency, 2)
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{duration}s", "--latency", "--timeout", "30s",
         "-s", str(pathlib.Path(__file__).with_name("post.lua")), url],
        capture_output=True, text=True, env=env, timeout=duration + 60,
    )
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latencies = {percent: float(value) * scale[unit] for percent, value, unit in LATENCY.findall(result.stdout)}
    rate = RATE.search(result.stdout)
    errors = NON_2XX.search(result.stdout)
    if not rate or "50" not in latencies:
        raise RuntimeError(f"wrk failed for {url}:\n{result.stdout}\n{result.stderr}")
    return {"p50": latencies["50"], "p99": latencies.get("99", float("nan")), "rps": float(rate.group(1)),
            "errors": int(errors.group(1)) if errors else 0}


async def slow_streams(port, count):
    """`count` concurrent slow streams through Switchboard; how many ended with message_stop."""
    body = json.dumps({"model": "slow-stream", "max_tokens": 64, "stream": True,
                       "messages": [{"role": "user", "content": "x" * 50}]}).encode()
    request = (f"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nx-api-key: {KEY}\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body

    async def one():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        await writer.drain()
        data = await reader.read()
        writer.close()
        return b"event: message_stop" in data

    results = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
    return sum(1 for result in results if result is True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="seconds-long run of the harness (CI)")
    parser.add_argument("--switchboard", default=str(ROOT / ".build/release/switchboard"))
    parser.add_argument("--litellm", default=None, help="the litellm executable; omitted in smoke runs")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--write", default=None, help="write the results to this markdown file")
    args = parser.parse_args()
    duration = 1 if args.smoke else args.duration
    concurrencies = [1, 8] if args.smoke else [1, 8, 64]
    streams = 50 if args.smoke else args.streams

    # Logs and configs stay in .build-bench/run for a look after a failed run.
    workdir = ROOT / ".build-bench" / "run"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    stack = Stack(workdir, args.switchboard, None if args.smoke else args.litellm)
    try:
        rows = []
        for size in ["large", "tiny"]:
            for stream in [False, True]:
                body_file = workdir / f"{size}-{stream}.json"
                body_file.write_text(json.dumps(getattr(bodies, size)("bench", stream)))
                for concurrency in concurrencies:
                    direct = None
                    for name, url, process in stack.targets():
                        result = wrk(url, body_file, concurrency, duration)
                        if name == "direct":
                            direct = result
                        rows.append({"size": size, "stream": stream, "c": concurrency, "target": name, **result,
                                     "added": result["p50"] - direct["p50"],
                                     "peak_mb": rss_kb(process.pid, "VmHWM") / 1024 if process else None})
        print_table(rows)
        peak_before = rss_kb(stack.switchboard.pid, "VmHWM")
        started = time.monotonic()
        completed = asyncio.run(slow_streams(stack.switchboard_port, streams))
        memory = {"streams": streams, "completed": completed, "seconds": time.monotonic() - started,
                  "peak_mb": max(peak_before, rss_kb(stack.switchboard.pid, "VmHWM")) / 1024,
                  "idle_mb": stack.switchboard_idle_kb / 1024}
        print(f"\nmemory run: {completed}/{streams} slow streams completed in {memory['seconds']:.1f} s; "
              f"Switchboard idle RSS {memory['idle_mb']:.1f} MB, peak RSS {memory['peak_mb']:.1f} MB")
        failures = [row for row in rows if row["errors"]]
        if completed != streams or failures:
            print(f"FAILED: {len(failures)} runs with non-2xx answers; {streams - completed} streams incomplete")
            return 1
        if args.write:
            write_markdown(pathlib.Path(args.write), rows, memory, stack)
    finally:
        stack.stop()
    return 0


def print_table(rows):
    header = f"{'request':<7} {'stream':<6} {'c':>3} {'target':<12} {'p50 ms':>8} {'p99 ms':>8} {'added ms':>9} {'req/s':>9} {'peak MB':>8}"
    print(header)
    print("-" * len(header))
    for row in rows:
        peak = f"{row['peak_mb']:.1f}" if row["peak_mb"] else "-"
        print(f"{row['size']:<7} {str(row['stream']).lower():<6} {row['c']:>3} {row['target']:<12} {row['p50']:>8.3f} "
              f"{row['p99']:>8.3f} {row['added']:>9.3f} {row['rps']:>9.0f} {peak:>8}")
    for key in sorted({(r["size"], r["stream"], r["c"]) for r in rows}):
        group = {r["target"]: r for r in rows if (r["size"], r["stream"], r["c"]) == key}
        if "litellm" in group:
            ratio = group["switchboard"]["rps"] / max(group["litellm"]["rps"], 1e-9)
            print(f"  {key[0]} stream={str(key[1]).lower()} c={key[2]}: Switchboard/LiteLLM throughput {ratio:.1f}x")


def write_markdown(path, rows, memory, stack):
    def version(command):
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=30)
            return (result.stdout.strip() or result.stderr.strip()).splitlines()[0]
        except (OSError, IndexError):
            return "?"
    cpu = next((line.split(":", 1)[1].strip() for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    lines = [
        "# Performance", "",
        f"Latest `make bench`, {datetime.date.today().isoformat()}: {os.cpu_count()} cores ({cpu}), {platform.platform()}; "
        f"{version(['swift', '--version'])}; {version(['/usr/sbin/nginx', '-v'])}; "
        f"{version(['wrk', '--version']) or 'wrk (Debian)'}; LiteLLM {LITELLM_VERSION}.", "",
        "nginx plays Gemini on loopback with canned answers; `direct` is wrk against nginx itself, the floor. "
        "Each row is one wrk run; `added` is p50 minus direct's p50 for the same request and concurrency. "
        "The large request is a Claude-Code-sized body (≈85 KB: long system prompt, 12 tools, 12 tool turns).", "",
        "| request | stream | c | target | p50 ms | p99 ms | added ms | req/s | peak RSS MB |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        peak = f"{row['peak_mb']:.1f}" if row["peak_mb"] else "-"
        lines.append(f"| {row['size']} | {str(row['stream']).lower()} | {row['c']} | {row['target']} | {row['p50']:.3f} | "
                     f"{row['p99']:.3f} | {row['added']:.3f} | {row['rps']:.0f} | {peak} |")
    lines += ["", "Switchboard/LiteLLM throughput:", ""]
    for key in sorted({(r["size"], r["stream"], r["c"]) for r in rows}):
        group = {r["target"]: r for r in rows if (r["size"], r["stream"], r["c"]) == key}
        if "litellm" in group:
            lines.append(f"- {key[0]}, stream {str(key[1]).lower()}, c={key[2]}: "
                         f"{group['switchboard']['rps'] / max(group['litellm']['rps'], 1e-9):.1f}×")
    lines += ["", f"Memory run: {memory['completed']}/{memory['streams']} concurrent slow streams (mock, 40 ms per character) "
              f"completed in {memory['seconds']:.1f} s; Switchboard RSS {memory['idle_mb']:.1f} MB idle, "
              f"{memory['peak_mb']:.1f} MB peak over the whole run.", ""]
    # Notes written by people (budgets, profiles, before/after) follow the marker and are kept.
    marker = "<!-- notes: kept across runs -->"
    notes = path.read_text().split(marker, 1)[1] if path.exists() and marker in path.read_text() else "\n"
    path.write_text("\n".join(lines) + "\n" + marker + notes)


LITELLM_VERSION = os.environ.get("LITELLM_VERSION", "?")

if __name__ == "__main__":
    sys.exit(main())
