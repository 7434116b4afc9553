"""The real Claude Code CLI (the `claude` binary inside the claude-agent-sdk wheel) through Switchboard."""

import json
import os
import pathlib
import subprocess

import pytest

from conftest import MASTER_KEY

import claude_agent_sdk

CLAUDE = pathlib.Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"


def run_claude(gateway, prompt: str, *args: str, token: str = MASTER_KEY, tmp_path: pathlib.Path) -> subprocess.CompletedProcess:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": gateway.url,
        "ANTHROPIC_AUTH_TOKEN": token,
        # No telemetry, update checks or connection probes; fail at once rather than retry for minutes.
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "CLAUDE_CODE_MAX_RETRIES": "0",
    }
    # As root the CLI refuses bypassPermissions; acceptEdits with an explicit tool list works.
    command = [str(CLAUDE), "-p", prompt, "--permission-mode", "acceptEdits", "--allowedTools", "Read", *args]
    return subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module", autouse=True)
def claude_binary():
    if not CLAUDE.exists():
        pytest.fail(f"the claude binary is missing from claude-agent-sdk: {CLAUDE}")


def test_claude_prints_the_mock_answer(gateway, tmp_path):
    result = run_claude(gateway, "hello from the end-to-end test", "--model", "mock-echo", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "hello from the end-to-end test"


def test_claude_default_model_names_route_by_wildcard(gateway, tmp_path):
    result = run_claude(
        gateway, "which route?", "--model", "claude-sonnet-4-5", "--output-format", "json", tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = json.loads(result.stdout)
    assert output["is_error"] is False
    assert output["result"] == "which route?"
    entries = [line for line in gateway.log_lines() if line.get("model") == "claude-sonnet-4-5"]
    assert entries and entries[-1]["provider"] == "mock" and entries[-1]["stream"] is True


def test_claude_with_a_wrong_key_reports_the_authentication_error(gateway, tmp_path):
    result = run_claude(
        gateway, "x", "--model", "mock-echo", "--output-format", "json", token="sk-wrong", tmp_path=tmp_path
    )
    assert result.returncode == 1
    output = json.loads(result.stdout)
    assert output["is_error"] is True
    assert output["api_error_status"] == 401
