"""The real Claude Code CLI (the `claude` binary inside the claude-agent-sdk wheel) through Switchboard."""

import json
import os
import urllib.request
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


def test_claude_runs_a_tool_loop_on_gemini_3(gateway, fake_gemini, tmp_path):
    """Gemini 3 asks for Read; Claude Code runs it and sends the result back, which the strict fake
    accepts only with the call's thought signature byte-exact; then Gemini answers with text."""
    target = tmp_path / "note.txt"
    target.write_text("the quick brown fox\n")
    prompt = 'fake:call Read {"file_path":"%s"}' % target
    result = run_claude(gateway, prompt, "--model", "gemini-3-flash-preview", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "fake-gemini got 1 tool results" in result.stdout
    assert "the quick brown fox" in result.stdout, "the Read tool's output went back to Gemini"

    with urllib.request.urlopen(fake_gemini + "/_fake/requests") as response:
        requests = json.load(response)
    generations = [r for r in requests if "generateContent" in r["path"] or "streamGenerateContent" in r["path"]]
    last = generations[-1]["body"]
    call = next(part for content in last["contents"] for part in content["parts"] if "functionCall" in part)
    assert call["functionCall"]["name"] == "Read"
    assert call["thoughtSignature"] != "skip_thought_signature_validator", "the real signature, not the dummy"
    declarations = last["tools"][0]["functionDeclarations"]
    assert all("$schema" not in d["parametersJsonSchema"] for d in declarations)


def test_claude_on_gemini_2_5_answers(gateway, tmp_path):
    result = run_claude(gateway, "hello gemini", "--model", "gemini-2.5-flash", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().startswith("fake-gemini heard:")
    assert "hello gemini" in result.stdout


def test_claude_with_a_wrong_key_reports_the_authentication_error(gateway, tmp_path):
    result = run_claude(
        gateway, "x", "--model", "mock-echo", "--output-format", "json", token="sk-wrong", tmp_path=tmp_path
    )
    assert result.returncode == 1
    output = json.loads(result.stdout)
    assert output["is_error"] is True
    assert output["api_error_status"] == 401
