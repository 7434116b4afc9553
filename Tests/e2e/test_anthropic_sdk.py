"""The official anthropic Python SDK against a running `switchboard serve`."""

import base64
import json
import time
import urllib.request

import anthropic
import httpx2 as httpx
import pytest

from conftest import MASTER_KEY


@pytest.fixture
def client(gateway):
    return anthropic.Anthropic(base_url=gateway.url, api_key=MASTER_KEY, max_retries=0)


def test_create_non_streaming_on_mock(client):
    message = client.messages.create(
        model="mock-echo", max_tokens=64, messages=[{"role": "user", "content": "ping from the SDK"}]
    )
    assert message.type == "message"
    assert message.role == "assistant"
    assert message.content[0].type == "text"
    assert message.content[0].text == "ping from the SDK"
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens > 0
    assert message.id.startswith("msg_")


def test_stream_get_final_message_on_mock(client):
    with client.messages.stream(
        model="mock-echo", max_tokens=64, messages=[{"role": "user", "content": "stream me in pieces"}]
    ) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(texts) > 1, "the mock should stream in several deltas"
    assert "".join(texts) == "stream me in pieces"
    assert final.content[0].text == "stream me in pieces"
    assert final.stop_reason == "end_turn"


def test_each_streamed_delta_arrives_as_it_is_made(client):
    # slow-mock makes one character per 100 ms; held-back writes would arrive bunched at the end.
    arrivals = []
    with client.messages.stream(
        model="slow-mock", max_tokens=64, messages=[{"role": "user", "content": "drip"}]
    ) as stream:
        for text in stream.text_stream:
            arrivals.append((time.monotonic(), text))
    assert "".join(text for _, text in arrivals) == "drip"
    gaps = [later - earlier for (earlier, _), (later, _) in zip(arrivals, arrivals[1:])]
    assert len(gaps) == 3 and min(gaps) > 0.05, gaps


def test_bearer_token_works_like_claude_code(gateway):
    client = anthropic.Anthropic(base_url=gateway.url, auth_token=MASTER_KEY, api_key=None, max_retries=0)
    message = client.messages.create(
        model="claude-opus-5", max_tokens=16, messages=[{"role": "user", "content": "bearer"}]
    )
    assert message.content[0].text == "bearer"


def test_anthropic_passthrough_streams_bytes_unchanged(gateway, fake_anthropic):
    body = {
        "model": "real-claude",
        "max_tokens": 64,
        "stream": True,
        "messages": [{"role": "user", "content": "through to the fake upstream"}],
    }
    with httpx.stream(
        "POST",
        gateway.url + "/v1/messages?beta=true",
        headers={"x-api-key": MASTER_KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"},
        content=json.dumps(body),
        timeout=30,
    ) as response:
        assert response.status_code == 200
        received = b"".join(response.iter_raw())

    with urllib.request.urlopen(fake_anthropic + "/_fake/last") as last:
        recorded = json.load(last)
    sent_upstream = base64.b64decode(recorded["response_body_base64"])
    assert received == sent_upstream, "streamed bytes must arrive unchanged"
    upstream_request = json.loads(base64.b64decode(recorded["request_body_base64"]))
    assert upstream_request["model"] == "claude-sonnet-4-5-20250929"
    assert upstream_request["messages"] == body["messages"]


def test_anthropic_passthrough_with_the_sdk(client):
    with client.messages.stream(
        model="real-claude", max_tokens=64, messages=[{"role": "user", "content": "sdk via passthrough"}]
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].text == "fake-anthropic heard: sdk via passthrough"
    assert final.model == "claude-sonnet-4-5-20250929"


def fake_connections(fake_anthropic) -> int:
    with urllib.request.urlopen(fake_anthropic + "/_fake/last") as last:
        return json.load(last)["connections"]


def test_passthrough_reuses_one_upstream_connection(client, fake_anthropic):
    client.messages.create(model="real-claude", max_tokens=8, messages=[{"role": "user", "content": "warm"}])
    before = fake_connections(fake_anthropic)
    for index in range(20):
        client.messages.create(model="real-claude", max_tokens=8, messages=[{"role": "user", "content": f"n{index}"}])
    # The only new connection is the one this check opens to read the count.
    assert fake_connections(fake_anthropic) == before + 1, "20 sequential requests must reuse the open connection"


def test_count_tokens(client):
    mock = client.messages.count_tokens(
        model="mock-echo", messages=[{"role": "user", "content": "count these tokens please"}]
    )
    assert mock.input_tokens > 0
    upstream = client.messages.count_tokens(
        model="real-claude", messages=[{"role": "user", "content": "count upstream"}]
    )
    assert upstream.input_tokens > 0


@pytest.mark.parametrize("model", ["gemini-2.5-flash", "gemini-3-flash-preview"])
def test_gemini_tool_loop_with_the_sdk(client, model):
    tools = [
        {
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["C", "F"]}},
                "required": ["city"],
                "additionalProperties": False,
            },
        }
    ]
    messages = [{"role": "user", "content": 'fake:call get_weather {"city":"Paris"}'}]
    with client.messages.stream(model=model, max_tokens=256, tools=tools, messages=messages) as stream:
        first = stream.get_final_message()
    assert first.stop_reason == "tool_use"
    call = next(block for block in first.content if block.type == "tool_use")
    assert call.name == "get_weather" and call.input == {"city": "Paris"}
    assert call.id.startswith("toolu_")

    messages += [
        {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18C, sunny"}]},
    ]
    second = client.messages.create(model=model, max_tokens=256, tools=tools, messages=messages)
    assert second.stop_reason == "end_turn"
    assert "18C, sunny" in second.content[0].text


def test_gemini_count_tokens_comes_from_gemini(gateway):
    response = httpx.post(
        gateway.url + "/v1/messages/count_tokens",
        headers={"x-api-key": MASTER_KEY},
        json={"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "count me on gemini"}]},
    )
    assert response.status_code == 200
    assert response.json()["input_tokens"] > 0
    assert "x-switchboard-token-count" not in response.headers


def test_wrong_key_is_authentication_error(gateway):
    client = anthropic.Anthropic(base_url=gateway.url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as raised:
        client.messages.create(model="mock-echo", max_tokens=8, messages=[{"role": "user", "content": "x"}])
    assert raised.value.status_code == 401
    assert raised.value.body["error"]["type"] == "authentication_error"


def test_malformed_body_is_bad_request(client):
    with pytest.raises(anthropic.BadRequestError) as raised:
        client.messages.create(
            model="mock-echo",
            max_tokens=8,
            messages=[{"role": "user", "content": "x"}],
            extra_body={"max_tokens": "many"},
        )
    assert raised.value.body["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in raised.value.body["error"]["message"]


def test_unknown_model_is_not_found(client):
    with pytest.raises(anthropic.NotFoundError) as raised:
        client.messages.create(model="no-such-model", max_tokens=8, messages=[{"role": "user", "content": "x"}])
    assert "no-such-model" in raised.value.body["error"]["message"]


def test_models_list(client):
    ids = [model.id for model in client.models.list()]
    assert ids == ["gemini-2.5-flash", "gemini-3-flash-preview", "mock-echo", "real-claude", "slow-mock"]


def test_access_log_has_one_json_line_per_request_and_no_key(gateway, client):
    raw = client.messages.with_raw_response.create(model="mock-echo", max_tokens=8, messages=[{"role": "user", "content": "log me"}])
    request_id = raw.headers["request-id"]
    deadline = time.monotonic() + 5
    while True:  # the line is written once the response has gone out
        entries = [line for line in gateway.log_lines() if line.get("logger") == "switchboard.access"]
        mine = [entry for entry in entries if entry.get("request_id") == request_id]
        if mine or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(mine) == 1, entries
    entry = mine[0]
    assert (entry["model"], entry["route"], entry["status"]) == ("mock-echo", "/v1/messages", 200)
    for field in ("request_id", "method", "route", "model", "provider", "status", "duration_ms"):
        assert field in entry, field
    log_text = gateway.log_path.read_text()
    assert MASTER_KEY not in log_text
    assert "sk-e2e-upstream" not in log_text
