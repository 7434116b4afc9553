"""Switchboard on Vertex AI, end to end: a service-account key this test generates, Google's token
endpoint and Vertex itself played by `switchboard-fakes vertex`, and real clients — the Claude Code CLI
and the anthropic SDK — on a `vertex_ai/gemini-3…` route and a `vertex_ai/claude-…` route."""

import base64
import json
import os
import subprocess
import time
import urllib.request

import anthropic
import pytest

from conftest import BIN_DIR, CLIENT, MASTER_KEY, ROOT, SERVER, FakeVertex, Gateway, fetch, service_account_key
from test_claude_code import run_claude

PROJECT = "e2e-vertex-project"
ACCOUNT = "switchboard-e2e@e2e-vertex-project.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def vertex(tmp_path_factory):
    """The fake Vertex, trusting the test's key; yields (base URL, key file path)."""
    fake = FakeVertex(tmp_path_factory.mktemp("vertex"), PROJECT, {"service-account": service_account_key(PROJECT, ACCOUNT)})
    yield fake.url, fake.keys["service-account"]
    fake.stop()


@pytest.fixture(scope="module")
def gateway(vertex, receiver, tmp_path_factory):
    url, key_path = vertex
    config = f"""
model_list:
  - model_name: vertex-gemini-3
    litellm_params: {{model: vertex_ai/gemini-3-flash-preview, vertex_location: global, api_base: "{url}"}}
  - model_name: vertex-gemini-regional
    litellm_params: {{model: vertex_ai/gemini-3-flash-preview, vertex_location: us-central1, api_base: "{url}"}}
  - model_name: vertex-claude
    litellm_params: {{model: "vertex_ai/claude-sonnet-4-5@20250929", vertex_location: us-east5, api_base: "{url}"}}
general_settings:
  master_key: {MASTER_KEY}
"""
    # The project comes from the key file, as google-auth finds it: no GOOGLE_CLOUD_PROJECT.
    env = {
        "GOOGLE_APPLICATION_CREDENTIALS": str(key_path), "GOOGLE_CLOUD_PROJECT": "", "VERTEXAI_PROJECT": "",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    running = Gateway(config, tmp_path_factory.mktemp("vertex-gateway"), env=env)
    yield running
    assert running.stop() == 0


def read_tool_loop(gateway, model: str, text: str, tmp_path) -> str:
    """Claude Code asked (by the fake's script) to Read a file holding `text`; what it printed."""
    target = tmp_path / "note.txt"
    target.write_text(text + "\n")
    prompt = 'fake:call Read {"file_path":"%s"}' % target
    result = run_claude(gateway, prompt, "--model", model, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert text in result.stdout, "the Read tool's output went back to the model"
    return result.stdout


def test_claude_code_runs_a_tool_loop_on_vertex_gemini_3(gateway, vertex, tmp_path):
    url, _ = vertex
    assert "fake-gemini got 1 tool results" in read_tool_loop(gateway, "vertex-gemini-3", "the quick brown fox", tmp_path)

    generations = [r for r in fetch(url + "/_fake/requests") if "GenerateContent" in r["path"] or "generateContent" in r["path"]]
    assert generations[-1]["path"] == (
        f"/v1/projects/{PROJECT}/locations/global/publishers/google/models/gemini-3-flash-preview:streamGenerateContent"
    )
    assert generations[-1]["headers"]["authorization"].startswith("Bearer ya29.")
    call = next(part for content in generations[-1]["body"]["contents"] for part in content["parts"] if "functionCall" in part)
    assert call["thoughtSignature"] != "skip_thought_signature_validator", "the real signature, round-tripped"
    assert all(content.get("role") in ("user", "model") for content in generations[-1]["body"]["contents"])
    assert {call["principal"] for call in fetch(url + "/_fake/vertex")} == {ACCOUNT}


def test_claude_code_runs_a_tool_loop_on_vertex_claude(gateway, vertex, tmp_path):
    url, _ = vertex
    assert "fake-anthropic got 1 tool results" in read_tool_loop(gateway, "vertex-claude", "jumps over the lazy dog", tmp_path)

    last = fetch(url + "/_fake/last")
    assert last["path"] == (
        f"/v1/projects/{PROJECT}/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"
    )
    body = json.loads(base64.b64decode(last["request_body_base64"]))
    assert "model" not in body and body["anthropic_version"] == "vertex-2023-10-16"
    assert body["messages"][-1]["content"][0]["type"] == "tool_result"


def test_a_gemini_3_preview_outside_global_says_where_it_is_served(gateway):
    client = anthropic.Anthropic(base_url=gateway.url, api_key=MASTER_KEY, max_retries=0)
    with pytest.raises(anthropic.NotFoundError) as caught:
        client.messages.create(model="vertex-gemini-regional", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
    assert "vertex_location: global" in str(caught.value)


def test_anthropic_sdk_counts_tokens_on_vertex(gateway, vertex):
    url, _ = vertex
    client = anthropic.Anthropic(base_url=gateway.url, api_key=MASTER_KEY, max_retries=0)
    messages = [{"role": "user", "content": "how many tokens is this sentence on Vertex?"}]
    claude = client.messages.count_tokens(model="vertex-claude", messages=messages)
    assert claude.input_tokens > 0
    last = fetch(url + "/_fake/last")
    assert last["path"].endswith("/publishers/anthropic/models/count-tokens:rawPredict")
    gemini = client.messages.count_tokens(model="vertex-gemini-3", messages=messages)
    assert gemini.input_tokens > 0
    counted = [r for r in fetch(url + "/_fake/requests") if r["path"].endswith(":countTokens")]
    assert counted and "generateContentRequest" not in counted[-1]["body"], "Vertex takes the flat body"


def test_one_token_serves_every_request_and_the_refresh_is_measured(gateway):
    with urllib.request.urlopen(gateway.url + "/metrics") as response:
        text = response.read().decode()
    refreshes = [line for line in text.splitlines() if line.startswith("switchboard_credential_refreshes_total{")]
    success = next(line for line in refreshes if 'result="success"' in line)
    assert 'source="GOOGLE_APPLICATION_CREDENTIALS"' in success
    assert float(success.rsplit(" ", 1)[1]) == 1, refreshes
    expiry = next(line for line in text.splitlines() if line.startswith("switchboard_credential_token_expiry_seconds{"))
    assert 'type="service_account"' in expiry and float(expiry.rsplit(" ", 1)[1]) > 3000


def test_check_resolves_the_seed_config(vertex, tmp_path):
    _, key_path = vertex
    env = {**os.environ, "GOOGLE_CLOUD_PROJECT": "seed-project", "GOOGLE_APPLICATION_CREDENTIALS": str(key_path)}
    result = subprocess.run(
        [str(BIN_DIR / "switchboard"), "check", "--config", str(ROOT / "config" / "gemini-vertex.yaml")],
        env=env, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "project seed-project (vertex_project)" in result.stdout
    assert "location global (vertex_location)" in result.stdout
    assert f"credentials service_account from GOOGLE_APPLICATION_CREDENTIALS ({key_path})" in result.stdout


def test_the_token_refresh_is_a_span_of_the_request_that_waited_for_it(gateway, receiver):
    anthropic.Anthropic(base_url=gateway.url, api_key=MASTER_KEY, max_retries=0).messages.create(
        model="vertex-gemini-3", max_tokens=16, messages=[{"role": "user", "content": "traced"}]
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(s["name"] == "refresh google credentials" for s in receiver.snapshot()):
        time.sleep(0.1)
    spans = receiver.snapshot()
    refreshes = [s for s in spans if s["name"] == "refresh google credentials"]
    assert len(refreshes) == 1, "one refresh for the whole module's requests"
    refresh = refreshes[0]
    assert refresh["kind"] == CLIENT
    assert refresh["attributes"]["switchboard.credential.source"] == "GOOGLE_APPLICATION_CREDENTIALS"
    assert refresh["attributes"]["switchboard.credential.type"] == "service_account"
    assert refresh["attributes"]["switchboard.credential.result"] == "success"
    parent = next(s for s in spans if s["span_id"] == refresh["parent_span_id"])
    assert parent["kind"] == SERVER and parent["trace_id"] == refresh["trace_id"]


def test_the_embedded_default_goes_to_vertex_with_adc_and_says_what_it_found(vertex, tmp_path):
    _, key_path = vertex
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(key_path), "GEMINI_API_KEY": "", "GOOGLE_CLOUD_PROJECT": "",
           "VERTEXAI_PROJECT": ""}
    running = Gateway(None, tmp_path, env=env)
    try:
        notices = [line["message"] for line in running.log_lines() if "embedded default" in line.get("message", "")]
        assert notices, running.log_lines()
        assert "Gemini on Vertex AI" in notices[0]
        assert f"project {PROJECT} (the credentials' project_id)" in notices[0]
        assert "location global (default)" in notices[0]
        assert f"credentials service_account from GOOGLE_APPLICATION_CREDENTIALS ({key_path})" in notices[0]
        with urllib.request.urlopen(running.url + "/v1/models") as response:
            assert response.status == 200
    finally:
        assert running.stop() == 0
