"""Configuration reload through the real binary: SIGHUP and a changed file swap the model list while
streams are open; a broken file is refused, logged with its YAML path, and the old one stays."""

import hashlib
import json
import signal
import threading
import time
import urllib.request

import httpx2 as httpx

from conftest import Gateway

FIRST = """
model_list:
  - model_name: slow
    litellm_params: {model: mock/slow, mock_chunk_chars: 2, mock_delay_ms: 60}
  - model_name: old
    litellm_params: {model: mock/old}
"""

SECOND = """
model_list:
  - model_name: slow
    litellm_params: {model: mock/slow, mock_chunk_chars: 2, mock_delay_ms: 60}
  - model_name: new
    litellm_params: {model: mock/new}
router_settings:
  num_retries: 1
"""

BROKEN = SECOND + """
  fallbacks: [{new: [nowhere]}]
"""


def ask(url: str, model: str) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/messages",
        json={"model": model, "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )


def metrics(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        return response.read().decode()


def wait_for(condition, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def open_streams(url: str, count: int) -> tuple[list[threading.Thread], list, threading.Barrier]:
    """Starts `count` slow streams; returns once each has received its first bytes."""
    results: list = [None] * count
    started = threading.Barrier(count + 1, timeout=20)

    def stream(index: int):
        body = {
            "model": "slow", "max_tokens": 64, "stream": True,
            "messages": [{"role": "user", "content": "a fairly long prompt to echo slowly " * 2}],
        }
        with httpx.stream("POST", f"{url}/v1/messages", json=body, timeout=60) as response:
            events = []
            signalled = False
            for line in response.iter_lines():
                if line.startswith("event: "):
                    events.append(line.removeprefix("event: "))
                    if not signalled:
                        signalled = True
                        started.wait()
            results[index] = (response.status_code, events)

    threads = [threading.Thread(target=stream, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    started.wait()
    return threads, results, started


def test_sighup_swaps_the_model_list_while_streams_finish_on_the_old_one(tmp_path):
    gateway = Gateway(FIRST, tmp_path)
    config = next(tmp_path.glob("config-*.yaml"))
    try:
        assert ask(gateway.url, "old").status_code == 200
        threads, results, _ = open_streams(gateway.url, 20)

        config.write_text(SECOND)
        gateway.process.send_signal(signal.SIGHUP)
        wait_for(lambda: any(line.get("message") == "configuration reloaded" for line in gateway.log_lines()))

        for thread in threads:
            thread.join(timeout=60)
        assert all(result is not None for result in results), "every stream ended"
        for status, events in results:
            assert status == 200
            assert events[-1] == "message_stop", events[-3:]

        assert ask(gateway.url, "new").status_code == 200
        gone = ask(gateway.url, "old")
        assert gone.status_code == 404 and "not configured" in gone.json()["error"]["message"]

        text = metrics(gateway.url)
        digest = hashlib.sha256(SECOND.encode()).hexdigest()
        assert f'switchboard_config_info{{sha256="{digest}"}} 1' in text
        assert 'switchboard_config_reloads_total{result="success"} 1' in text

        # A broken file: refused with the YAML path, the old configuration keeps serving.
        config.write_text(BROKEN)
        gateway.process.send_signal(signal.SIGHUP)
        refused = wait_for(lambda: [l for l in gateway.log_lines() if "reload refused" in l.get("message", "")])
        assert "router_settings.fallbacks" in json.dumps(refused[-1]), refused[-1]
        assert ask(gateway.url, "new").status_code == 200
        assert 'switchboard_config_reloads_total{result="failure"} 1' in metrics(gateway.url)
    finally:
        assert gateway.stop() == 0


def test_a_changed_file_is_reloaded_without_a_signal(tmp_path):
    gateway = Gateway(FIRST, tmp_path)
    config = next(tmp_path.glob("config-*.yaml"))
    try:
        assert ask(gateway.url, "new").status_code == 404
        config.write_text(SECOND)
        wait_for(lambda: ask(gateway.url, "new").status_code == 200)
        assert ask(gateway.url, "old").status_code == 404
    finally:
        assert gateway.stop() == 0
