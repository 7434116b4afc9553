"""The process: graceful shutdown, `switchboard check`, startup errors, the embedded default."""

import json
import signal
import subprocess
import threading
import time

import httpx2 as httpx
import pytest

from conftest import BIN_DIR, MASTER_KEY, ROOT, Gateway, free_port, wait_until_healthy

SLOW_CONFIG = """
model_list:
  - model_name: slow
    litellm_params: {model: mock/slow, mock_chunk_chars: 1, mock_delay_ms: 60}
switchboard:
  graceful_shutdown_seconds: %s
"""

TEXT = "twenty-five characters!!"


def stream_in_background(url: str, results: dict, first_bytes: threading.Event) -> threading.Thread:
    def run():
        body = {"model": "slow", "max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": TEXT}]}
        chunks = []
        try:
            with httpx.stream("POST", url + "/v1/messages", json=body, timeout=30) as response:
                for chunk in response.iter_text():
                    chunks.append(chunk)
                    first_bytes.set()
        except httpx.HTTPError as error:
            results["error"] = error
        results["body"] = "".join(chunks)
        first_bytes.set()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_sigterm_lets_in_flight_streams_finish_and_exits_zero(tmp_path):
    gateway = Gateway(SLOW_CONFIG % 30, tmp_path)
    results, first_bytes = {}, threading.Event()
    thread = stream_in_background(gateway.url, results, first_bytes)
    assert first_bytes.wait(10)
    gateway.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 5
    while True:  # stops accepting soon after the signal
        try:
            httpx.get(gateway.url + "/health", timeout=2)
        except httpx.HTTPError:
            break
        assert time.monotonic() < deadline, "still accepting 5 s after SIGTERM"
        time.sleep(0.05)
    thread.join(30)
    assert "error" not in results
    assert "event: message_stop" in results["body"], "the in-flight stream must complete"
    assert gateway.stop() == 0


def test_grace_period_cuts_streams_that_outlive_it(tmp_path):
    gateway = Gateway(SLOW_CONFIG.replace("mock_delay_ms: 60", "mock_delay_ms: 1000") % 0.5, tmp_path)
    results, first_bytes = {}, threading.Event()
    thread = stream_in_background(gateway.url, results, first_bytes)
    assert first_bytes.wait(10)
    started = time.monotonic()
    gateway.process.send_signal(signal.SIGINT)
    assert gateway.stop(timeout=15) == 0
    assert 0.45 <= time.monotonic() - started < 10, "the stream gets its grace period, then is cut"
    thread.join(10)
    assert not thread.is_alive()
    assert "event: message_start" in results.get("body", ""), "the stream had begun"
    assert "event: message_stop" not in results["body"]


def test_embedded_default_answers_from_the_mock_and_says_so(tmp_path):
    gateway = Gateway(None, tmp_path, env={"GEMINI_API_KEY": ""})
    response = httpx.post(
        gateway.url + "/v1/messages",
        json={"model": "claude-haiku-4-5", "max_tokens": 8, "messages": [{"role": "user", "content": "default?"}]},
    )
    assert response.status_code == 200
    assert response.json()["content"][0]["text"] == "default?"
    notices = [line["message"] for line in gateway.log_lines() if line.get("level") == "notice"]
    assert any("mock provider" in notice for notice in notices), notices
    assert gateway.stop() == 0


def run(*args, env=None):
    import os

    return subprocess.run(
        [str(BIN_DIR / "switchboard"), *args], capture_output=True, text=True, timeout=30, env={**os.environ, **(env or {})}
    )


def test_check_prints_the_resolved_routes(tmp_path):
    config = tmp_path / "ok.yaml"
    config.write_text(
        "model_list:\n"
        "  - {model_name: claude-sonnet-4-5, litellm_params: {model: anthropic/claude-sonnet-4-5, api_key: k}}\n"
        "  - {model_name: 'claude-*', litellm_params: {model: mock/echo}}\n"
        "router_settings: {model_group_alias: {opus: claude-sonnet-4-5}}\n"
        "litellm_settings: {set_verbose: true}\n"
    )
    result = run("check", "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning: litellm_settings.set_verbose: not used by Switchboard; ignored" in result.stdout
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["claude-sonnet-4-5", "claude-sonnet-4-5#1", "anthropic", "claude-sonnet-4-5", "https://api.anthropic.com"] in rows
    assert ["claude-*", "claude-*#1", "mock", "echo", "in-process"] in rows
    assert ["opus", "alias", "→", "claude-sonnet-4-5"] in rows


def test_check_names_the_yaml_path_of_a_mistake(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("model_list:\n  - model_name: a\n    litellm_params:\n      model: anthropic/x\n      api_key: os.environ/E2E_UNSET_KEY\n")
    result = run("check", "--config", str(config))
    assert result.returncode == 1
    assert "model_list[0].litellm_params.api_key: environment variable E2E_UNSET_KEY is not set" in result.stdout


def test_serve_refuses_a_broken_config_with_a_clear_error(tmp_path):
    config = tmp_path / "broken.yaml"
    config.write_text("model_list:\n  - model_name: a\n    litellm_params: {model: nowhere/x}\n")
    result = run("serve", "--config", str(config), "--port", "0")
    assert result.returncode != 0
    assert "model_list[0].litellm_params.model" in result.stderr
    assert 'provider "nowhere" is not supported' in result.stderr


@pytest.mark.parametrize("name", ["mixed.yaml", "gemini-ai-studio.yaml", "resilient.yaml", "openai-compatible.yaml"])
def test_example_configs_check_clean(name):
    keys = {"ANTHROPIC_API_KEY": "sk-e2e-dummy", "SWITCHBOARD_MASTER_KEY": "sk-e2e-dummy", "GEMINI_API_KEY": "e2e-dummy",
            "GEMINI_API_KEY_A": "e2e-dummy-a", "GEMINI_API_KEY_B": "e2e-dummy-b", "DEEPSEEK_API_KEY": "e2e-dummy",
            "GROQ_API_KEY": "e2e-dummy", "VLLM_API_KEY": "e2e-dummy"}
    result = run("check", "--config", str(ROOT / "config" / name), env=keys)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_shows_each_deployment_and_the_fallback_chains():
    keys = {"ANTHROPIC_API_KEY": "k", "GEMINI_API_KEY_A": "a", "GEMINI_API_KEY_B": "b"}
    result = run("check", "--config", str(ROOT / "config" / "resilient.yaml"), env=keys)
    assert "warning" not in result.stdout, "every routing key is read"
    assert "gemini-pro-key-a" in result.stdout and "gemini-pro-key-b" in result.stdout
    assert "claude-haiku-4-5#1" in result.stdout
    assert "fallbacks: claude-sonnet-4-5 → sonnet-on-anthropic" in result.stdout
    assert "context_window_fallbacks: claude-sonnet-4-5 → gemini-long" in result.stdout


def test_serve_refuses_an_open_address_without_a_master_key(tmp_path):
    # Any non-loopback address with no master key would hand the operator's provider keys to the network.
    result = run("serve", "--host", "0.0.0.0", "--port", "0", env={"LITELLM_MASTER_KEY": ""})
    assert result.returncode != 0
    assert "refusing to listen on 0.0.0.0 without a master key" in result.stderr, result.stderr
    for fix in ("general_settings.master_key", "LITELLM_MASTER_KEY", "--allow-unauthenticated",
                "switchboard.allow_unauthenticated: true"):
        assert fix in result.stderr, fix


def start_on_all_addresses(tmp_path, *flags, env=None) -> tuple[subprocess.Popen, str]:
    import os

    port = free_port()
    log = open(tmp_path / f"serve-{port}.log", "w")
    process = subprocess.Popen(
        [str(BIN_DIR / "switchboard"), "serve", "--host", "0.0.0.0", "--port", str(port), *flags],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "LITELLM_MASTER_KEY": "", **(env or {})}, cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(url, process)
    return process, url


@pytest.mark.parametrize("flags,env", [(("--allow-unauthenticated",), None), ((), {"LITELLM_MASTER_KEY": MASTER_KEY})])
def test_serve_on_an_open_address_with_a_key_or_the_explicit_allow(tmp_path, flags, env):
    process, url = start_on_all_addresses(tmp_path, *flags, env=env)
    try:
        models = httpx.get(url + "/v1/models", timeout=5)
        assert models.status_code == (200 if flags else 401), "LITELLM_MASTER_KEY guards the gateway, as in LiteLLM"
        if env:
            assert httpx.get(url + "/v1/models", headers={"x-api-key": MASTER_KEY}, timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
