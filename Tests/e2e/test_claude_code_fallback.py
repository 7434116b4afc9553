"""The real Claude Code CLI runs a tool loop through Switchboard while its primary Gemini deployment
answers 429 (with Gemini's RetryInfo) to every request: the fallback group serves it, and the spans
show each request's attempts — the failed one and the one that answered — under one SERVER span."""

import json
import time
import urllib.request

import pytest

from conftest import CLIENT, FAKE_GEMINI_KEY, Gateway, MASTER_KEY, SERVER
from test_claude_code import run_claude

# The fake's plan for the primary: every generation a 429.
PRIMARY_PLAN = "429=1.0,seed=429"


@pytest.fixture(scope="module")
def fallback_gateway(fake_gemini, receiver, tmp_path_factory):
    config = f"""
model_list:
  - model_name: gemini-3-flash-preview
    litellm_params:
      model: gemini/gemini-3-flash-preview
      api_key: {FAKE_GEMINI_KEY}
      api_base: "{fake_gemini}/faults/{PRIMARY_PLAN}/v1beta"
  - model_name: gemini-backup
    litellm_params:
      model: gemini/gemini-3-flash-preview
      api_key: {FAKE_GEMINI_KEY}
      api_base: "{fake_gemini}/v1beta"
router_settings:
  num_retries: 1
  fallbacks: [{{gemini-3-flash-preview: [gemini-backup]}}]
general_settings:
  master_key: {MASTER_KEY}
"""
    gateway = Gateway(
        config,
        tmp_path_factory.mktemp("fallback"),
        env={"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "200"},
    )
    yield gateway
    assert gateway.stop() == 0


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def session(fallback_gateway, fake_gemini, receiver, tmp_path_factory):
    """Claude Code asks Gemini 3 (by way of the fallback) to Read a file, runs it, and gets the answer."""
    tmp_path = tmp_path_factory.mktemp("claude-fallback")
    target = tmp_path / "note.txt"
    target.write_text("served by the fallback\n")
    result = run_claude(
        fallback_gateway, 'fake:call Read {"file_path":"%s"}' % target, "--model", "gemini-3-flash-preview", tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr

    def claude_requests(spans):
        return [
            span
            for span in spans
            if span["kind"] == SERVER
            and span["attributes"].get("http.route") == "/v1/messages"
            and str(span["attributes"].get("user_agent.original", "")).startswith("claude-cli")
        ]

    # Spans leave in batches every 200 ms; each request's SERVER span is exported with its CLIENT spans.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        spans = receiver.snapshot()
        servers = claude_requests(spans)
        clients = [span for span in spans if span["kind"] == CLIENT and span["trace_id"] in {s["trace_id"] for s in servers}]
        if len(servers) >= 2 and len(clients) >= len(servers) + 1:
            break
        time.sleep(0.2)
    return {
        "result": result,
        "spans": receiver.snapshot(),
        "servers": claude_requests(receiver.snapshot()),
        "upstream": get_json(fake_gemini + "/_fake/requests"),
        "stats": get_json(fake_gemini + "/_fake/stats")["plans"].get(PRIMARY_PLAN, {}),
    }


def test_claude_code_completes_the_tool_loop_on_the_fallback(session):
    output = session["result"].stdout
    assert "fake-gemini got 1 tool results" in output, output
    assert "served by the fallback" in output, "the Read tool's output went back to the model"
    stats = session["stats"]
    assert stats["faults"]["429"] >= 1, stats
    assert stats["clean"] == 0, "the primary never answered"


def test_each_request_shows_its_attempts_under_one_server_span(session):
    spans, servers = session["spans"], session["servers"]
    assert len(servers) >= 2, "the tool loop is two requests"
    # Which deployment an attempt went to, from the traceparent the fake received with it.
    path_by_span = {}
    for request in session["upstream"]:
        traceparent = {k.lower(): v for k, v in request["headers"].items()}.get("traceparent", "")
        if traceparent:
            path_by_span[traceparent.split("-")[2]] = request["path"]
    both = 0
    for server in servers:
        attempts = sorted(
            (span for span in spans if span["kind"] == CLIENT and span["parent_span_id"] == server["span_id"]),
            key=lambda span: span["start"],
        )
        assert attempts, server
        *failed, served = attempts
        assert "error.type" not in served["attributes"], served["attributes"]
        assert not path_by_span[served["span_id"]].startswith("/faults/"), "the fallback deployment answered"
        for attempt in failed:
            assert attempt["attributes"]["error.type"] == "http_429", attempt["attributes"]
            assert path_by_span[attempt["span_id"]].startswith(f"/faults/{PRIMARY_PLAN}/"), "the primary refused"
            assert server["start"] <= attempt["start"] <= attempt["end"] <= served["start"] <= server["end"]
        assert server["attributes"]["http.response.status_code"] == 200
        assert "error.type" not in server["attributes"]
        both += bool(failed)
    # The first request finds the primary healthy; later ones may find it cooling after its 429 and go
    # straight to the fallback.
    assert both >= 1, "at least one request tried the primary, failed with 429, and was served by the fallback"
