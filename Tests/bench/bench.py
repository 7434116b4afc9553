"""Switchboard beside LiteLLM against nginx playing a fake Gemini and a fake OpenAI-compatible server, driven
by wrk, on loopback.

    make bench          # full run: release build, LiteLLM from PyPI, table into docs/performance.md
    make bench-smoke    # seconds: debug build, no LiteLLM, nothing written (part of make test)

Prints one table: p50 / p99 latency, latency added over direct nginx, requests per second and peak
RSS per target, for each route (gemini/ and openai/ on the same requests), and the Switchboard/LiteLLM
ratios; then a memory run of concurrent slow streams.
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
import threading
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


def process_tree(pid):
    """A process and its children (LiteLLM's workers), recursively."""
    found = []
    pids = [pid]
    while pids:
        current = pids.pop()
        found.append(current)
        try:
            for task in pathlib.Path(f"/proc/{current}/task").iterdir():
                pids.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            pass
    return found


def rss_kb(pid, field="VmRSS"):
    """RSS (or the peak, VmHWM) of a process and its children, in KiB."""
    total = 0
    for current in process_tree(pid):
        try:
            status = pathlib.Path(f"/proc/{current}/status").read_text()
            total += int(re.search(rf"{field}:\s+(\d+)", status).group(1))
        except (OSError, AttributeError):
            pass
    return total


def reset_peak(pid):
    """Sets the peak RSS (VmHWM) of a process and its children to their current RSS (Linux's clear_refs 5),
    so the next peak read is the peak of what ran in between. Returns False where the kernel refuses."""
    try:
        for current in process_tree(pid):
            pathlib.Path(f"/proc/{current}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# The routes measured on the same requests: the model each asks for (streaming or not) and, for the direct
# run, nginx's path. nginx answers by path alone, so an openai/ route's streams go to a base of their own.
ROUTES = {
    "gemini": {"models": {False: "bench", True: "bench"},
               "direct": {False: "/v1beta/models/gemini-2.5-flash:generateContent",
                          True: "/v1beta/models/gemini-2.5-flash:streamGenerateContent"}},
    "openai": {"models": {False: "bench-openai", True: "bench-openai-stream"},
               "direct": {False: "/json/v1/chat/completions", True: "/sse/v1/chat/completions"}},
}
CANNED_TEXT = "The lookup now uses a default"


class Stack:
    """nginx as the fake Gemini and the fake Chat Completions server, Switchboard and (optionally) LiteLLM, all on
    127.0.0.1."""

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
        location = /json/v1/chat/completions {{ default_type application/json; return 200 '{bodies.OPENAI_JSON}'; }}
        location = /sse/v1/chat/completions {{ default_type text/event-stream; return 200 '{bodies.OPENAI_SSE}'; }}
        location / {{ default_type application/json; return 200 '{bodies.GEMINI_JSON}'; }}
    }}
}}
""")
        self.nginx = self.start(["/usr/sbin/nginx", "-c", str(config), "-p", str(workdir), "-e", "stderr"])
        self.gemini_base = f"http://127.0.0.1:{self.nginx_port}/v1beta"
        # openai/gpt-4.1 with api_base at nginx: non-streaming requests to one base, streams to the other.
        openai_json = f"http://127.0.0.1:{self.nginx_port}/json/v1"
        openai_sse = f"http://127.0.0.1:{self.nginx_port}/sse/v1"
        openai_routes = f"""
  - model_name: bench-openai
    litellm_params: {{model: openai/gpt-4.1, api_key: k, api_base: "{openai_json}"}}
  - model_name: bench-openai-stream
    litellm_params: {{model: openai/gpt-4.1, api_key: k, api_base: "{openai_sse}"}}
"""

        self.switchboard_port = free_port()
        sb_config = workdir / "switchboard.yaml"
        sb_config.write_text(f"""
model_list:
  - model_name: bench
    litellm_params: {{model: gemini/gemini-2.5-flash, api_key: k, api_base: "{self.gemini_base}"}}{openai_routes.rstrip()}
  - model_name: slow-stream
    litellm_params: {{model: mock/slow, mock_chunk_chars: 1, mock_delay_ms: 40}}
general_settings:
  master_key: {KEY}
switchboard:
  graceful_shutdown_seconds: 5
  state_dir: "{workdir}"
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
            # LiteLLM 1.83 sends /v1/messages for openai/ models to OpenAI's Responses API unless told to use Chat
            # Completions, which both gateways are measured on here.
            ll_config.write_text(f"""
model_list:
  - model_name: bench
    litellm_params: {{model: gemini/gemini-2.5-flash, api_key: k, api_base: "{self.gemini_base}"}}{openai_routes.rstrip()}
litellm_settings: {{drop_params: true, use_chat_completions_url_for_anthropic_messages: true}}
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

    def targets(self, route, stream):
        targets = [("direct", f"http://127.0.0.1:{self.nginx_port}{ROUTES[route]['direct'][stream]}", None),
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


def check_answer(name, url, body, stream):
    """One request before the timed runs: the gateway must answer with the canned text, whole, so that wrk
    times answers and not errors (an error inside a 200 stream would pass wrk's status check)."""
    request = urllib.request.Request(url, data=body, headers={"content-type": "application/json", "x-api-key": KEY,
                                                              "anthropic-version": "2023-06-01"})
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read().decode()
    complete = "event: message_stop" in text and "event: error" not in text if stream else '"stop_reason"' in text
    if CANNED_TEXT not in text or not complete:
        raise RuntimeError(f"{name} did not answer {url} with the canned text (stream={stream}):\n{text[:2000]}")


def cpu_seconds(pid):
    """User plus system CPU time the process has used (/proc/pid/stat fields 14 and 15)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bad_key_flood(port, pid, count=10_000, workers=8):
    """`count` requests, each with a different made-up key, over keep-alive connections: every one must be a
    401, and what they cost the gateway is its CPU time over the flood divided by `count`."""
    import http.client
    import secrets

    body = json.dumps({"model": "bench", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]})
    statuses = {}
    lock = threading.Lock()

    def worker(share):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        seen = {}
        for _ in range(share):
            connection.request("POST", "/v1/messages", body, {"content-type": "application/json",
                                                              "x-api-key": "sk-" + secrets.token_urlsafe(24)})
            response = connection.getresponse()
            response.read()
            seen[response.status] = seen.get(response.status, 0) + 1
        connection.close()
        with lock:
            for status, number in seen.items():
                statuses[status] = statuses.get(status, 0) + number

    rss_before = rss_kb(pid)
    cpu_before, started = cpu_seconds(pid), time.monotonic()
    threads = [threading.Thread(target=worker, args=(count // workers,)) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = count // workers * workers
    return {"requests": sent, "statuses": statuses, "seconds": time.monotonic() - started,
            "cpu_us": (cpu_seconds(pid) - cpu_before) / sent * 1e6, "rss_growth_mb": (rss_kb(pid) - rss_before) / 1024}


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
        whole_run_peak_kb = rss_kb(stack.switchboard.pid, "VmHWM")
        for route in ROUTES:
            for size in ["large", "tiny"]:
                for stream in [False, True]:
                    body_file = workdir / f"{route}-{size}-{stream}.json"
                    body_file.write_text(json.dumps(getattr(bodies, size)(ROUTES[route]["models"][stream], stream)))
                    for name, url, process in stack.targets(route, stream):
                        if process:
                            check_answer(name, url, body_file.read_bytes(), stream)
                    for concurrency in concurrencies:
                        direct = None
                        for name, url, process in stack.targets(route, stream):
                            # Each row's peak RSS is the peak during its own run, where the kernel allows the reset.
                            if process:
                                whole_run_peak_kb = max(whole_run_peak_kb, rss_kb(stack.switchboard.pid, "VmHWM"))
                                reset_peak(process.pid)
                            result = wrk(url, body_file, concurrency, duration)
                            if name == "direct":
                                direct = result
                            rows.append({"route": route, "size": size, "stream": stream, "c": concurrency, "target": name,
                                         **result, "added": result["p50"] - direct["p50"],
                                         "peak_mb": rss_kb(process.pid, "VmHWM") / 1024 if process else None})
        print_table(rows)
        whole_run_peak_kb = max(whole_run_peak_kb, rss_kb(stack.switchboard.pid, "VmHWM"))
        reset_peak(stack.switchboard.pid)
        started = time.monotonic()
        completed = asyncio.run(slow_streams(stack.switchboard_port, streams))
        streams_peak_kb = rss_kb(stack.switchboard.pid, "VmHWM")
        memory = {"streams": streams, "completed": completed, "seconds": time.monotonic() - started,
                  "streams_peak_mb": streams_peak_kb / 1024, "peak_mb": max(whole_run_peak_kb, streams_peak_kb) / 1024,
                  "idle_mb": stack.switchboard_idle_kb / 1024}
        print(f"\nmemory run: {completed}/{streams} slow streams completed in {memory['seconds']:.1f} s; "
              f"Switchboard idle RSS {memory['idle_mb']:.1f} MB, peak RSS {memory['streams_peak_mb']:.1f} MB during the "
              f"streams, {memory['peak_mb']:.1f} MB over the whole run")
        flood = bad_key_flood(stack.switchboard_port, stack.switchboard.pid)
        print(f"bad-key flood: {flood['requests']} requests with made-up keys in {flood['seconds']:.1f} s, answered "
              f"{flood['statuses']}; {flood['cpu_us']:.0f} µs of Switchboard CPU per rejected request, "
              f"RSS grew {flood['rss_growth_mb']:.1f} MB")
        memory["flood"] = flood
        if flood["statuses"] != {401: flood["requests"]}:
            print("FAILED: a made-up key was not answered 401")
            return 1
        failures = [row for row in rows if row["errors"]]
        if completed != streams or failures:
            print(f"FAILED: {len(failures)} runs with non-2xx answers; {streams - completed} streams incomplete")
            return 1
        if args.write:
            write_markdown(pathlib.Path(args.write), rows, memory, stack)
    finally:
        stack.stop()
    return 0


def groups(rows):
    """The rows by (route, request, stream, c), in the order they ran."""
    keys = list(dict.fromkeys((r["route"], r["size"], r["stream"], r["c"]) for r in rows))
    return [(key, {r["target"]: r for r in rows if (r["route"], r["size"], r["stream"], r["c"]) == key}) for key in keys]


def print_table(rows):
    header = (f"{'route':<6} {'request':<7} {'stream':<6} {'c':>3} {'target':<12} {'p50 ms':>8} {'p99 ms':>8} {'added ms':>9} "
              f"{'req/s':>9} {'peak MB':>8}")
    print(header)
    print("-" * len(header))
    for row in rows:
        peak = f"{row['peak_mb']:.1f}" if row["peak_mb"] else "-"
        print(f"{row['route']:<6} {row['size']:<7} {str(row['stream']).lower():<6} {row['c']:>3} {row['target']:<12} "
              f"{row['p50']:>8.3f} {row['p99']:>8.3f} {row['added']:>9.3f} {row['rps']:>9.0f} {peak:>8}")
    for key, group in groups(rows):
        if "litellm" in group:
            ratio = group["switchboard"]["rps"] / max(group["litellm"]["rps"], 1e-9)
            print(f"  {key[0]} {key[1]} stream={str(key[2]).lower()} c={key[3]}: Switchboard/LiteLLM throughput {ratio:.1f}x")


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
        "nginx plays two upstreams on loopback with canned answers: Gemini (route `gemini`: "
        "`gemini/gemini-2.5-flash`) and an OpenAI-compatible server (route `openai`: `openai/gpt-4.1` with `api_base`, "
        "Chat Completions JSON, or SSE with a usage chunk and `[DONE]`). Switchboard and LiteLLM get the same "
        "Anthropic requests on both routes. `direct` is wrk against nginx itself, the floor. "
        "Each row is one wrk run; `added` is p50 minus direct's p50 for the same route, request and concurrency; "
        "peak RSS is the gateway's peak during that run (VmHWM, reset before it). "
        "The large request is a Claude-Code-sized body (≈85 KB: long system prompt, 12 tools, 12 tool turns).", "",
        "| route | request | stream | c | target | p50 ms | p99 ms | added ms | req/s | peak RSS MB |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        peak = f"{row['peak_mb']:.1f}" if row["peak_mb"] else "-"
        lines.append(f"| {row['route']} | {row['size']} | {str(row['stream']).lower()} | {row['c']} | {row['target']} | "
                     f"{row['p50']:.3f} | {row['p99']:.3f} | {row['added']:.3f} | {row['rps']:.0f} | {peak} |")
    lines += ["", "Switchboard/LiteLLM throughput:", ""]
    for key, group in groups(rows):
        if "litellm" in group:
            lines.append(f"- {key[0]}, {key[1]}, stream {str(key[2]).lower()}, c={key[3]}: "
                         f"{group['switchboard']['rps'] / max(group['litellm']['rps'], 1e-9):.1f}×")
    lines += ["", f"Memory run: {memory['completed']}/{memory['streams']} concurrent slow streams (mock, 40 ms per character) "
              f"completed in {memory['seconds']:.1f} s; Switchboard RSS {memory['idle_mb']:.1f} MB idle, "
              f"{memory['streams_peak_mb']:.1f} MB peak during the streams, {memory['peak_mb']:.1f} MB peak over the whole run.", ""]
    flood = memory["flood"]
    lines += [f"Bad-key flood: {flood['requests']} requests, each with a different made-up key, from 8 keep-alive "
              f"connections: all answered 401 in {flood['seconds']:.1f} s; {flood['cpu_us']:.0f} µs of Switchboard CPU "
              f"per rejected request (its CPU time over the flood ÷ requests); RSS grew {flood['rss_growth_mb']:.1f} MB.", ""]
    # Notes written by people (budgets, profiles, before/after) follow the marker and are kept.
    marker = "<!-- notes: kept across runs -->"
    notes = path.read_text().split(marker, 1)[1] if path.exists() and marker in path.read_text() else "\n"
    path.write_text("\n".join(lines) + "\n" + marker + notes)


LITELLM_VERSION = os.environ.get("LITELLM_VERSION", "?")

if __name__ == "__main__":
    sys.exit(main())
