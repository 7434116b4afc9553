"""Spans over OTLP/HTTP protobuf from a running switchboard, decoded independently, for a real
Claude Code session through Switchboard to the fake Gemini."""

import json
import time
import urllib.request

import anthropic
import httpx2 as httpx
import pytest

from conftest import CLIENT, FAKE_GEMINI_KEY, Gateway, MASTER_KEY, SERVER
from test_claude_code import run_claude



@pytest.fixture(scope="module")
def traced_gateway(fake_gemini, receiver, tmp_path_factory):
    config = f"""
model_list:
  - model_name: gemini-3-flash-preview
    litellm_params: {{model: gemini/gemini-3-flash-preview, api_key: {FAKE_GEMINI_KEY}, api_base: "{fake_gemini}/v1beta"}}
general_settings:
  master_key: {MASTER_KEY}
"""
    gateway = Gateway(
        config,
        tmp_path_factory.mktemp("traced"),
        env={
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url,
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "OTEL_SERVICE_NAME": "switchboard-e2e",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
        },
    )
    yield gateway
    assert gateway.stop() == 0


@pytest.fixture(scope="module")
def session(traced_gateway, fake_gemini, receiver, tmp_path_factory):
    """A Claude Code tool loop, an SDK call, and a request continuing a caller's trace."""
    tmp_path = tmp_path_factory.mktemp("claude")
    target = tmp_path / "note.txt"
    target.write_text("traced content\n")
    result = run_claude(
        traced_gateway, 'fake:call Read {"file_path":"%s"}' % target, "--model", "gemini-3-flash-preview", tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr

    client = anthropic.Anthropic(base_url=traced_gateway.url, api_key=MASTER_KEY, max_retries=0)
    message = client.messages.create(
        model="gemini-3-flash-preview", max_tokens=64, messages=[{"role": "user", "content": "count my tokens"}]
    )

    caller_trace, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    response = httpx.post(
        traced_gateway.url + "/v1/messages",
        headers={"x-api-key": MASTER_KEY, "traceparent": f"00-{caller_trace}-{caller_span}-01"},
        json={"model": "gemini-3-flash-preview", "max_tokens": 16, "messages": [{"role": "user", "content": "continue my trace"}]},
        timeout=30,
    )
    assert response.status_code == 200

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        spans = receiver.snapshot()
        if sum(1 for span in spans if span["kind"] == CLIENT) >= 4 and any(s["trace_id"] == caller_trace for s in spans):
            break
        time.sleep(0.2)
    return {"message": message, "caller": (caller_trace, caller_span), "spans": receiver.snapshot(), "port": str(traced_gateway.port)}


def test_span_tree_server_with_client_children(session):
    spans = session["spans"]
    by_id = {span["span_id"]: span for span in spans}
    clients = [span for span in spans if span["kind"] == CLIENT]
    assert len(clients) >= 4
    for span in clients:
        parent = by_id.get(span["parent_span_id"])
        assert parent is not None and parent["kind"] == SERVER, span
        assert parent["trace_id"] == span["trace_id"]
        assert parent["start"] <= span["start"] <= span["end"] <= parent["end"]
    servers = [span for span in spans if span["kind"] == SERVER and span["attributes"].get("http.route") == "/v1/messages"]
    assert len(servers) >= 3
    assert all(span["name"] == "POST /v1/messages" for span in servers)
    assert all(span["resource"]["service.name"] == "switchboard-e2e" for span in spans)
    # Each replica names itself: switchboard.instance_id, by default the machine's name and the port.
    instances = {span["resource"].get("service.instance.id") for span in spans}
    assert len(instances) == 1 and instances.pop().endswith(":" + session["port"]), instances


def test_genai_attributes_and_usage_match_the_response(session):
    message = session["message"]
    response_spans = [s for s in session["spans"] if s["kind"] == CLIENT and s["attributes"].get("gen_ai.response.id") == message.id]
    assert len(response_spans) == 1
    attributes = response_spans[0]["attributes"]
    assert response_spans[0]["name"] == "chat gemini-3-flash-preview"
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "gcp.gemini"
    assert attributes["gen_ai.request.model"] == "gemini-3-flash-preview"
    assert attributes["gen_ai.response.model"] == "gemini-3-flash-preview"
    assert attributes["gen_ai.response.finish_reasons"] == ["end_turn"]
    assert attributes["gen_ai.request.max_tokens"] == 64
    assert attributes["server.address"] == "127.0.0.1"
    assert attributes["server.port"] > 0
    usage = message.usage
    total_input = usage.input_tokens + (usage.cache_read_input_tokens or 0) + (usage.cache_creation_input_tokens or 0)
    assert attributes["gen_ai.usage.input_tokens"] == total_input
    assert attributes["gen_ai.usage.output_tokens"] == usage.output_tokens
    assert "switchboard.cost_usd" in attributes
    inputs = json.loads(attributes["gen_ai.input.messages"])
    assert inputs[-1]["parts"][0]["content"] == "count my tokens"
    outputs = json.loads(attributes["gen_ai.output.messages"])
    assert outputs[0]["finish_reason"] == "stop"


def test_claude_code_session_id_on_every_span_and_tool_calls_as_events(session):
    spans = session["spans"]
    claude_traces = {s["trace_id"] for s in spans if s["kind"] == SERVER and str(s["attributes"].get("user_agent.original", "")).startswith("claude-cli")}
    assert len(claude_traces) >= 2, "the tool loop is two requests"
    claude_spans = [s for s in spans if s["trace_id"] in claude_traces]
    session_ids = {s["attributes"].get("session.id") for s in claude_spans}
    assert len(session_ids) == 1 and None not in session_ids, session_ids
    assert all(s["attributes"]["gen_ai.conversation.id"] in session_ids for s in claude_spans)
    tool_events = [e for s in claude_spans for e in s["events"] if e["name"] == "gen_ai.tool.call"]
    assert any(e["attributes"]["gen_ai.tool.name"] == "Read" for e in tool_events)
    translation = [e for s in claude_spans for e in s["events"] if e["name"] == "switchboard.tool_call_translation"]
    assert any(e["attributes"]["switchboard.translation.kind"] == "schema_rewritten" for e in translation)


def test_caller_trace_continues_and_is_injected_upstream(session, fake_gemini):
    caller_trace, caller_span = session["caller"]
    spans = [s for s in session["spans"] if s["trace_id"] == caller_trace]
    server = next(s for s in spans if s["kind"] == SERVER)
    client = next(s for s in spans if s["kind"] == CLIENT)
    assert server["parent_span_id"] == caller_span
    with urllib.request.urlopen(fake_gemini + "/_fake/requests") as response:
        requests = json.load(response)
    sent = [r for r in requests if caller_trace in json.dumps(r.get("headers", {}))]
    assert sent, "the upstream request carries the trace"
    headers = {k.lower(): v for k, v in (sent[-1]["headers"].items() if isinstance(sent[-1]["headers"], dict) else sent[-1]["headers"])}
    assert headers["traceparent"] == f"00-{caller_trace}-{client['span_id']}-01"


def test_metrics_exemplars_are_exported_traces(session, traced_gateway, receiver):
    text = httpx.get(traced_gateway.url + "/metrics", headers={"accept": "application/openmetrics-text"}).text
    exemplars = [line for line in text.splitlines() if " # {trace_id=" in line]
    exemplar_traces = {line.split('trace_id="')[1].split('"')[0] for line in exemplars}
    # Which bucket keeps which request's exemplar depends on timing; that the session's last request
    # (the caller's trace) marks each family it passed through does not.
    caller_trace, _ = session["caller"]
    for family in (
        "switchboard_requests_total",
        "gen_ai_client_operation_duration_seconds_bucket",
        "switchboard_upstream_duration_seconds_bucket",
        "switchboard_gateway_overhead_seconds_bucket",
    ):
        marked = {line.split('trace_id="')[1].split('"')[0] for line in exemplars if line.startswith(family + "{")}
        assert caller_trace in marked, (family, marked)
    # Every exemplar names a request that finished before this scrape; its spans leave within the
    # schedule delay (200 ms here).
    time.sleep(1)
    exported = {span["trace_id"] for span in receiver.snapshot()}
    assert exemplar_traces <= exported, exemplar_traces - exported


def test_unsampled_caller_trace_is_passed_on_but_not_exported(session, traced_gateway, receiver, fake_gemini):
    unsampled_trace = "5ce0e9a56015fec5aadfa328ae398115"
    response = httpx.post(
        traced_gateway.url + "/v1/messages",
        headers={"x-api-key": MASTER_KEY, "traceparent": f"00-{unsampled_trace}-b7ad6b7169203331-00"},
        json={"model": "gemini-3-flash-preview", "max_tokens": 16, "messages": [{"role": "user", "content": "do not trace me"}]},
        timeout=30,
    )
    assert response.status_code == 200
    with urllib.request.urlopen(fake_gemini + "/_fake/requests") as upstream:
        sent = [r for r in json.load(upstream) if unsampled_trace in json.dumps(r.get("headers", {}))]
    assert sent, "the upstream request carries the trace"
    raw = sent[-1]["headers"]
    headers = {k.lower(): v for k, v in (raw.items() if isinstance(raw, dict) else raw)}
    assert headers["traceparent"].startswith(f"00-{unsampled_trace}-")
    assert headers["traceparent"].endswith("-00"), "the decision travels upstream"
    # Spans leave within the 200 ms schedule delay; a sampled request's would be here by now.
    time.sleep(1)
    assert not [span for span in receiver.snapshot() if span["trace_id"] == unsampled_trace]
    text = httpx.get(traced_gateway.url + "/metrics", headers={"accept": "application/openmetrics-text"}).text
    assert unsampled_trace not in text


def test_operational_routes_make_no_span_and_no_log_line(traced_gateway, receiver):
    for _ in range(3):
        assert httpx.get(traced_gateway.url + "/health").status_code == 200
        assert httpx.get(traced_gateway.url + "/health/ready").status_code == 200
        assert httpx.get(traced_gateway.url + "/metrics").status_code == 200
        assert httpx.head(traced_gateway.url + "/api/hello").status_code == 200
    caller_trace = "6e0c63257de34c92bf9efcd03927272e"
    listed = httpx.get(
        traced_gateway.url + "/v1/models",
        headers={"x-api-key": MASTER_KEY, "traceparent": f"00-{caller_trace}-00f067aa0ba902b7-01"},
    )
    assert listed.status_code == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(s["trace_id"] == caller_trace for s in receiver.snapshot()):
        time.sleep(0.1)
    time.sleep(0.5)  # a probe's span, were there one, left in the same batch or the next
    routes = {span["attributes"].get("http.route") for span in receiver.snapshot() if span["kind"] == SERVER}
    assert "/v1/models" in routes
    assert not routes & {"/health", "/health/ready", "/metrics", "/api/hello"}, routes
    access = [line for line in traced_gateway.log_lines() if line.get("logger") == "switchboard.access"]
    assert not [line for line in access if line["route"] in ("/health", "/health/ready", "/metrics", "/api/hello")]
    models = [line for line in access if line["route"] == "/v1/models"]
    assert models and models[-1]["trace_id"] == caller_trace, "the access log names the trace"


def test_sampler_always_off_exports_nothing_but_tells_the_upstream(fake_gemini, receiver, tmp_path):
    config = f"""
model_list:
  - model_name: gemini-3-flash-preview
    litellm_params: {{model: gemini/gemini-3-flash-preview, api_key: {FAKE_GEMINI_KEY}, api_base: "{fake_gemini}/v1beta"}}
"""
    gateway = Gateway(
        config,
        tmp_path,
        env={"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_TRACES_SAMPLER": "always_off"},
    )
    response = httpx.post(
        gateway.url + "/v1/messages",
        headers={"x-claude-code-session-id": "sampler-e2e-session"},
        json={"model": "gemini-3-flash-preview", "max_tokens": 16, "messages": [{"role": "user", "content": "sampled out"}]},
        timeout=30,
    )
    assert response.status_code == 200
    time.sleep(1)
    access = [line for line in gateway.log_lines() if line.get("logger") == "switchboard.access"]
    assert gateway.stop() == 0
    line = [line for line in access if line["route"] == "/v1/messages"][-1]
    assert line["session_id"] == "sampler-e2e-session"
    trace = line["trace_id"]
    with urllib.request.urlopen(fake_gemini + "/_fake/requests") as upstream:
        sent = [r for r in json.load(upstream) if trace in json.dumps(r.get("headers", {}))]
    assert sent, "the upstream request carries the trace"
    raw = sent[-1]["headers"]
    headers = {k.lower(): v for k, v in (raw.items() if isinstance(raw, dict) else raw)}
    assert headers["traceparent"].endswith("-00"), "an unsampled trace still propagates, flagged 00"
    assert not [span for span in receiver.snapshot() if span["trace_id"] == trace]
