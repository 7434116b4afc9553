"""OpenAI-compatible upstreams end to end: `switchboard serve` in front of `switchboard-fakes openai` (a strict
Chat Completions server, Azure OpenAI's deployment URLs and vLLM's /tokenize), driven by real clients — the
Claude Code CLI on an `openai/` and a `deepseek/` route, and the anthropic SDK's stream accumulator on every
stream shape the fake can send — plus `switchboard check` on the same configuration.

What the fake answers is scripted by a `fake:NAME` directive in the prompt (SwitchboardTesting's
FakeChatCompletionsServer+Script.swift lists them)."""

import json
import os
import re
import subprocess
import urllib.request

import anthropic
import pytest

from conftest import BIN_DIR, FAKE_OPENAI_KEY, MASTER_KEY, Gateway, fetch
from test_claude_code import run_claude

AZURE_DEPLOYMENT = "e2e-gpt-4o"
AZURE_API_VERSION = "2024-10-21"
VLLM_MODEL = "Qwen/Qwen3-8B"
THOUGHT = "Let me think about that for a moment."
# The ids the fake gives its calls, as OpenAI's look.
CALL_ID = re.compile(r"call_[A-Za-z0-9]{24}")


def openai_config(fake: str) -> str:
    """The module's routes: the DeepSeek key comes from DEEPSEEK_API_KEY and the vLLM route has none, so
    `check` has something to say about each; no retries, so scripted errors surface at once."""
    return f"""
model_list:
  - model_name: gpt-4.1
    litellm_params: {{model: openai/gpt-4.1, api_base: "{fake}/v1", api_key: {FAKE_OPENAI_KEY}}}
  - model_name: deepseek-reasoner
    litellm_params: {{model: deepseek/deepseek-reasoner, api_base: "{fake}/v1"}}
  - model_name: openai-errors
    litellm_params: {{model: openai/gpt-4o, api_base: "{fake}/v1", api_key: {FAKE_OPENAI_KEY}}}
  - model_name: azure-gpt-4o
    litellm_params:
      model: azure/{AZURE_DEPLOYMENT}
      api_base: "{fake}"
      api_version: "{AZURE_API_VERSION}"
      api_key: {FAKE_OPENAI_KEY}
      extra_headers: {{X-Team: blue}}
  - model_name: vllm-qwen
    litellm_params: {{model: hosted_vllm/{VLLM_MODEL}, api_base: "{fake}/v1", tokenize_url: "{fake}/tokenize"}}
  - model_name: "claude-*"
    litellm_params: {{model: mock/claude-echo}}
router_settings:
  num_retries: 0
general_settings:
  master_key: {MASTER_KEY}
"""


# The DeepSeek key from the environment; none for vLLM, whatever the caller's environment holds.
OPENAI_ENV = {"DEEPSEEK_API_KEY": FAKE_OPENAI_KEY, "HOSTED_VLLM_API_KEY": ""}


@pytest.fixture(scope="module")
def gateway(fake_openai, tmp_path_factory):
    running = Gateway(openai_config(fake_openai), tmp_path_factory.mktemp("openai-gateway"), env=OPENAI_ENV)
    yield running
    assert running.stop() == 0


@pytest.fixture(scope="module")
def client(gateway):
    return anthropic.Anthropic(base_url=gateway.url, api_key=MASTER_KEY, max_retries=0)


def recorded(fake: str) -> list[dict]:
    return fetch(fake + "/_fake/requests")


def completions_since(fake: str, start: int) -> list[dict]:
    """The chat completion requests the fake received after the first `start` requests."""
    return [r for r in recorded(fake)[start:] if r["path"].endswith("/chat/completions")]


def translation_errors(gateway) -> dict[str, float]:
    """`switchboard_tool_call_translation_errors_total` by label set."""
    with urllib.request.urlopen(gateway.url + "/metrics") as response:
        text = response.read().decode()
    counts = {}
    for line in text.splitlines():
        if line.startswith("switchboard_tool_call_translation_errors_total{"):
            labels, value = line.rsplit(" ", 1)
            counts[labels.removeprefix("switchboard_tool_call_translation_errors_total")] = float(value)
    return counts


def increase(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {labels: value - before.get(labels, 0) for labels, value in after.items() if value != before.get(labels, 0)}


def assert_every_call_answered(requests: list[dict]) -> list[list[str]]:
    """Each assistant message with calls is followed by one `tool` message per call id (the strict fake refuses
    anything else; this says which call went unanswered). Returns the call ids of the last request's turns."""
    turns = []
    for request in requests:
        messages = request["body"]["messages"]
        turns = []
        for index, message in enumerate(messages):
            if message["role"] != "assistant" or not message.get("tool_calls"):
                continue
            ids = [call["id"] for call in message["tool_calls"]]
            answers = []
            for following in messages[index + 1 :]:
                if following["role"] != "tool":
                    break
                answers.append(following["tool_call_id"])
            assert sorted(answers) == sorted(ids), f"message {index}: calls {ids}, answered {answers}"
            assert len(set(ids)) == len(ids)
            assert all(CALL_ID.fullmatch(i) for i in ids), "the fake's own call ids come back unchanged"
            turns.append(ids)
    return turns


# MARK: - Claude Code

CLAUDE_ROUTES = ["gpt-4.1", "deepseek-reasoner"]


def claude_tool_loop(gateway, fake, model: str, prompt: str, tmp_path) -> tuple[dict, list[dict]]:
    """Claude Code on `model` with `prompt`; its JSON result and the completions the fake saw for it. The run must
    leave no tool-call translation error behind."""
    start = len(recorded(fake))
    errors_before = translation_errors(gateway)
    result = run_claude(
        gateway, prompt, "--allowedTools", "Write", "--model", model, "--output-format", "json", tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = json.loads(result.stdout)
    assert output["is_error"] is False, output
    assert not output["result"].startswith("fake-openai heard:"), (
        "the fake answered as if the prompt held no directive (it reads the last user message): " + output["result"][:300]
    )
    requests = completions_since(fake, start)
    assert requests, "the run reached the fake"
    assert {r["body"]["model"] for r in requests} == {model}, "each route here is named after its upstream model"
    assert all(r["headers"]["authorization"] == f"Bearer {FAKE_OPENAI_KEY}" for r in requests)
    assert increase(errors_before, translation_errors(gateway)) == {}, "no tool call lost or guessed"
    if model == "deepseek-reasoner":
        # DeepSeek's thinking models refuse a tool loop whose calls come back without their reasoning: the
        # thinking block Claude Code echoes goes back as reasoning_content.
        for request in requests:
            for message in request["body"]["messages"]:
                if message["role"] == "assistant" and message.get("tool_calls"):
                    assert isinstance(message.get("reasoning_content"), str) and message["reasoning_content"], message
    return output, requests


@pytest.mark.parametrize("model", CLAUDE_ROUTES)
def test_claude_code_writes_a_file(gateway, fake_openai, model, tmp_path):
    target = tmp_path / "written.txt"
    text = f"written by Claude Code through {model}\nsecond line\n"
    prompt = "fake:call Write " + json.dumps({"file_path": str(target), "content": text})
    output, requests = claude_tool_loop(gateway, fake_openai, model, prompt, tmp_path)

    assert target.read_text() == text
    assert output["result"].startswith("fake-openai got 1 tool results:"), output["result"]
    assert len(requests) == 2, "the call, then its result"
    (turn,) = assert_every_call_answered(requests)
    call = requests[-1]["body"]["messages"][-2]["tool_calls"][0]
    assert call["function"]["name"] == "Write"
    assert json.loads(call["function"]["arguments"]) == {"file_path": str(target), "content": text}
    answer = requests[-1]["body"]["messages"][-1]
    assert answer["role"] == "tool" and answer["tool_call_id"] == turn[0] and str(target) in answer["content"]


@pytest.mark.parametrize("model", CLAUDE_ROUTES)
def test_claude_code_reads_a_file(gateway, fake_openai, model, tmp_path):
    target = tmp_path / "note.txt"
    target.write_text("the quick brown fox\n")
    output, requests = claude_tool_loop(
        gateway, fake_openai, model, "fake:call Read " + json.dumps({"file_path": str(target)}), tmp_path
    )
    assert "the quick brown fox" in output["result"], "the Read tool's output went back to the model"
    assert_every_call_answered(requests)


@pytest.mark.parametrize("directive", ["parallel", "interleaved"])
@pytest.mark.parametrize("model", CLAUDE_ROUTES)
def test_claude_code_answers_parallel_calls(gateway, fake_openai, model, directive, tmp_path):
    """Two Read calls in one answer (one after the other, or with their argument fragments alternating): Claude
    Code reads both files and answers each id with its own file."""
    files = [tmp_path / "first.txt", tmp_path / "second.txt"]
    for path, text in zip(files, ["alpha contents\n", "beta contents\n"]):
        path.write_text(text)
    each = {"each": [{"file_path": str(path)} for path in files]}
    output, requests = claude_tool_loop(gateway, fake_openai, model, f"fake:{directive} Read " + json.dumps(each), tmp_path)
    assert output["result"].startswith("fake-openai got 2 tool results:"), output["result"]
    assert len(requests) == 2
    (turn,) = assert_every_call_answered(requests)
    assert len(turn) == 2
    messages = requests[-1]["body"]["messages"]
    calls = messages[-3]["tool_calls"]
    assert [json.loads(call["function"]["arguments"]) for call in calls] == each["each"]
    assert [call["function"]["name"] for call in calls] == ["Read", "Read"]
    answers = {message["tool_call_id"]: message["content"] for message in messages[-2:]}
    assert "alpha contents" in answers[calls[0]["id"]] and "beta contents" in answers[calls[1]["id"]]


@pytest.mark.parametrize("model", CLAUDE_ROUTES)
def test_claude_code_follows_a_two_step_chain(gateway, fake_openai, model, tmp_path):
    """A Read, and after its result a second Read: two model steps, each answered with its own file."""
    files = [tmp_path / "step1.txt", tmp_path / "step2.txt"]
    for index, path in enumerate(files, 1):
        path.write_text(f"step {index} contents\n")
    each = {"each": [{"file_path": str(path)} for path in files]}
    output, requests = claude_tool_loop(gateway, fake_openai, model, "fake:chain Read " + json.dumps(each), tmp_path)
    assert output["result"].startswith("fake-openai got 1 tool results:"), output["result"]
    assert output["num_turns"] >= 3
    assert len(requests) == 3, "the prompt, the first result, the second result"
    turns = assert_every_call_answered(requests)
    assert len(turns) == 2 and turns[0] != turns[1]
    steps = [
        json.loads(message["tool_calls"][0]["function"]["arguments"])
        for message in requests[-1]["body"]["messages"]
        if message["role"] == "assistant" and message.get("tool_calls")
    ]
    assert steps == each["each"]
    tool_messages = [m["content"] for m in requests[-1]["body"]["messages"] if m["role"] == "tool"]
    assert "step 1 contents" in tool_messages[0] and "step 2 contents" in tool_messages[1]


def test_claude_code_shows_deepseek_reasoning_as_thinking(gateway, fake_openai, tmp_path):
    """DeepSeek's `reasoning_content` reaches Claude Code as a thinking block before the text."""
    start = len(recorded(fake_openai))
    result = run_claude(
        gateway, "fake:reasoning", "--model", "deepseek-reasoner", "--output-format", "stream-json", "--verbose",
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    blocks = [block for event in events if event["type"] == "assistant" for block in event["message"]["content"]]
    assert [block["type"] for block in blocks] == ["thinking", "text"], blocks
    assert "fake:reasoning" in blocks[1]["text"], "the fake saw the prompt: " + blocks[1]["text"][:300]
    assert blocks[1]["text"].startswith("fake-openai heard:")
    assert blocks[0]["thinking"] == THOUGHT
    (final,) = [event for event in events if event["type"] == "result"]
    assert final["is_error"] is False
    assert [r["body"]["model"] for r in completions_since(fake_openai, start)] == ["deepseek-reasoner"]


# MARK: - The anthropic SDK's accumulator, every stream shape

READ_TOOL = {
    "name": "Read",
    "description": "Read a file",
    "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
}


def text_of(message) -> str:
    return "".join(block.text for block in message.content if block.type == "text")


def heard(prompt):
    def check(message):
        assert [block.type for block in message.content] == ["text"]
        assert message.content[0].text == f"fake-openai heard: {prompt}"
        assert message.stop_reason == "end_turn"

    return check


def thought(prompt):
    def check(message):
        assert [block.type for block in message.content] == ["thinking", "text"], "thinking comes first"
        assert message.content[0].thinking == THOUGHT and message.content[0].signature
        assert message.content[1].text == f"fake-openai heard: {prompt}"
        assert message.stop_reason == "end_turn"

    return check


def called(*inputs):
    def check(message):
        assert message.stop_reason == "tool_use"
        assert [block.type for block in message.content] == ["tool_use"] * len(inputs)
        assert [block.name for block in message.content] == ["Read"] * len(inputs)
        assert [block.input for block in message.content] == list(inputs)
        assert len({block.id for block in message.content}) == len(inputs), "parallel calls stay distinct"

    return check


def cached(message):
    heard("fake:cached")(message)
    assert message.usage.cache_read_input_tokens > 0 and message.usage.input_tokens > 0


def stopped(reason, text):
    def check(message):
        assert message.stop_reason == reason
        assert text_of(message) == text

    return check


SHAPES = {
    "hello over Chat Completions": heard("hello over Chat Completions"),
    "fake:reasoning": thought("fake:reasoning"),
    "fake:reasoning-field": thought("fake:reasoning-field"),
    'fake:call Read {"path": "/etc/hosts", "limit": 20}': called({"path": "/etc/hosts", "limit": 20}),
    'fake:whole-args Read {"path": "/etc/hosts"}': called({"path": "/etc/hosts"}),
    "fake:parallel Read": called({"n": 1}, {"n": 2}),
    "fake:interleaved Read": called(
        {"n": 1, "note": "the first of two calls"}, {"n": 2, "note": "the second of two calls"}
    ),
    "fake:keepalive": heard("fake:keepalive"),
    "fake:no-done": heard("fake:no-done"),
    "fake:null-choices": heard("fake:null-choices"),
    "fake:cached": cached,
    "fake:max-tokens": stopped("max_tokens", "fake-openai was cut off in the middle of"),
    "fake:content-filter": stopped("refusal", "fake-openai started to say"),
}


@pytest.mark.parametrize("streamed", [True, False], ids=["stream", "create"])
@pytest.mark.parametrize("prompt", list(SHAPES))
def test_the_sdk_accepts_every_answer_shape(client, prompt, streamed):
    request = dict(model="gpt-4.1", max_tokens=256, messages=[{"role": "user", "content": prompt}], tools=[READ_TOOL])
    if streamed:
        with client.messages.stream(**request) as stream:
            events = [event.type for event in stream]
            message = stream.get_final_message()
        assert events[0] == "message_start" and events[-1] == "message_stop"
    else:
        message = client.messages.create(**request)
    SHAPES[prompt](message)
    assert message.model == "gpt-4.1"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


ERRORS = [
    ("fake:error 429", anthropic.RateLimitError, 429, "rate_limit_error"),
    ("fake:error 401", anthropic.AuthenticationError, 401, "authentication_error"),
    ("fake:error 503", anthropic.APIStatusError, 529, "overloaded_error"),
    ("fake:overflow", anthropic.BadRequestError, 400, "invalid_request_error"),
    ("fake:bad-args Read", anthropic.InternalServerError, 502, "api_error"),
]


@pytest.mark.parametrize("streamed", [True, False], ids=["stream", "create"])
@pytest.mark.parametrize("prompt, exception, status, kind", ERRORS, ids=[e[0] for e in ERRORS])
def test_upstream_errors_raise_the_sdk_exceptions(gateway, client, prompt, exception, status, kind, streamed):
    errors_before = translation_errors(gateway)
    request = dict(
        model="openai-errors", max_tokens=64, messages=[{"role": "user", "content": prompt}], tools=[READ_TOOL]
    )
    with pytest.raises(exception) as raised:
        if streamed:
            with client.messages.stream(**request) as stream:
                stream.get_final_message()
        else:
            client.messages.create(**request)
    error = raised.value
    assert error.status_code == status
    assert error.body["type"] == "error" and error.body["error"]["type"] == kind
    assert FAKE_OPENAI_KEY not in str(error.body)
    if prompt == "fake:error 429":
        assert error.response.headers["retry-after"] == "7"
    if prompt == "fake:overflow":
        assert error.body["error"]["message"].startswith("prompt is too long")
    counted = increase(errors_before, translation_errors(gateway))
    if prompt.startswith("fake:bad-args"):
        assert set(counted) == {'{provider="openai",kind="malformed_call"}'}, counted
    else:
        assert counted == {}


@pytest.mark.parametrize(
    "prompt, message",
    [
        ("fake:mid-stream-error", "The server had an error"),
        ("fake:truncate", "without a finish_reason"),
    ],
)
def test_a_stream_that_breaks_off_ends_with_an_error_event(client, prompt, message):
    texts = []
    with pytest.raises(anthropic.APIStatusError) as raised:
        with client.messages.stream(
            model="openai-errors", max_tokens=64, messages=[{"role": "user", "content": prompt}]
        ) as stream:
            for text in stream.text_stream:
                texts.append(text)
    assert texts, "the text before the break reached the client"
    assert raised.value.body["error"]["type"] == "api_error"
    assert message in raised.value.body["error"]["message"]


# MARK: - Azure OpenAI


def test_azure_route_uses_the_deployment_url_and_its_key_header(client, fake_openai):
    start = len(recorded(fake_openai))
    answer = client.messages.create(
        model="azure-gpt-4o", max_tokens=64, messages=[{"role": "user", "content": "hello azure"}]
    )
    assert text_of(answer) == "fake-openai heard: hello azure"
    with client.messages.stream(
        model="azure-gpt-4o", max_tokens=64, messages=[{"role": "user", "content": "fake:parallel Read"}],
        tools=[READ_TOOL],
    ) as stream:
        called({"n": 1}, {"n": 2})(stream.get_final_message())

    requests = recorded(fake_openai)[start:]
    assert len(requests) == 2
    for request in requests:
        assert request["path"] == f"/openai/deployments/{AZURE_DEPLOYMENT}/chat/completions"
        assert request["query"] == f"api-version={AZURE_API_VERSION}"
        assert request["headers"]["api-key"] == FAKE_OPENAI_KEY
        assert "authorization" not in request["headers"]
        assert request["headers"]["x-team"] == "blue"
        assert "model" not in request["body"], "the deployment in the URL names the model"


# MARK: - switchboard check


def check(config_path, env):
    return subprocess.run(
        [str(BIN_DIR / "switchboard"), "check", "--config", str(config_path)],
        env=env, capture_output=True, text=True, timeout=30,
    )


def test_check_shows_each_endpoint_and_where_its_key_came_from(fake_openai, tmp_path):
    config = tmp_path / "openai.yaml"
    config.write_text(openai_config(fake_openai))
    result = check(config, {**os.environ, **OPENAI_ENV})
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert rows["gpt-4.1"].endswith(f"{fake_openai}/v1/chat/completions")
    assert rows["deepseek-reasoner"].endswith(f"{fake_openai}/v1/chat/completions")
    assert rows["azure-gpt-4o"].endswith(
        f"{fake_openai}/openai/deployments/{AZURE_DEPLOYMENT}/chat/completions?api-version={AZURE_API_VERSION}"
    )
    assert rows["vllm-qwen"].endswith(f"{fake_openai}/v1/chat/completions")
    assert "gpt-4.1#1: key from api_key" in result.stdout
    assert "deepseek-reasoner#1: key from DEEPSEEK_API_KEY" in result.stdout
    assert f"azure-gpt-4o#1: key from api_key, api-version {AZURE_API_VERSION}" in result.stdout
    assert "vllm-qwen#1: no key" in result.stdout
    assert FAKE_OPENAI_KEY not in result.stdout + result.stderr, "where the key came from, never the key"


def test_check_names_the_missing_groq_key(tmp_path):
    config = tmp_path / "groq.yaml"
    config.write_text("model_list:\n  - model_name: fast\n    litellm_params: {model: groq/llama-3.3-70b-versatile}\n")
    environment = {name: value for name, value in os.environ.items() if name != "GROQ_API_KEY"}
    missing = check(config, environment)
    assert missing.returncode != 0
    assert "GROQ_API_KEY" in missing.stdout + missing.stderr

    found = check(config, {**environment, "GROQ_API_KEY": "gsk-e2e-groq"})
    assert found.returncode == 0, found.stdout + found.stderr
    assert "https://api.groq.com/openai/v1/chat/completions" in found.stdout
    assert "fast#1: key from GROQ_API_KEY" in found.stdout


# MARK: - count_tokens


def test_count_tokens_is_an_estimate_without_a_tokenizer(client, fake_openai):
    start = len(recorded(fake_openai))
    response = client.messages.with_raw_response.count_tokens(
        model="gpt-4.1", messages=[{"role": "user", "content": "how many tokens is this sentence on OpenAI?"}]
    )
    assert response.headers["x-switchboard-token-count"] == "estimated"
    assert response.parse().input_tokens > 0
    assert recorded(fake_openai)[start:] == [], "the Chat Completions API has no counting endpoint to ask"


def test_count_tokens_asks_the_vllm_tokenizer(client, fake_openai):
    start = len(recorded(fake_openai))
    response = client.messages.with_raw_response.count_tokens(
        model="vllm-qwen", messages=[{"role": "user", "content": "how many tokens is this sentence on vLLM?"}]
    )
    assert "x-switchboard-token-count" not in response.headers, "a count, not an estimate"
    (asked,) = recorded(fake_openai)[start:]
    assert asked["path"] == "/tokenize" and asked["body"]["model"] == VLLM_MODEL
    request = urllib.request.Request(
        fake_openai + "/tokenize", data=json.dumps(asked["body"]).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request) as answer:
        counted = json.load(answer)["count"]
    assert response.parse().input_tokens == counted
