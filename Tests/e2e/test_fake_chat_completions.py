"""The fake Chat Completions server speaks OpenAI's dialect: the official `openai` SDK, its stream accumulator
and its Azure client read what it sends, and raise the SDK's own exception for each of its errors.

What the fake answers is scripted by a `fake:NAME` directive in the prompt (SwitchboardTesting's
FakeChatCompletionsServer+Script.swift lists them)."""

import json
import urllib.request

import openai
import pytest

from conftest import FAKE_OPENAI_KEY

MODEL = "gpt-4o"
READ_TOOL = {
    "type": "function",
    "function": {
        "name": "Read",
        "description": "Read a file",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    },
}
USAGE = {"include_usage": True}


@pytest.fixture
def client(fake_openai):
    # No retries: a scripted 429 or 5xx must surface at once, not after the SDK's backoff.
    return openai.OpenAI(base_url=fake_openai + "/v1", api_key=FAKE_OPENAI_KEY, max_retries=0)


def ask(prompt):
    return [{"role": "user", "content": prompt}]


def test_streamed_text_and_usage(client):
    chunks = list(
        client.chat.completions.create(model=MODEL, messages=ask("hello there"), stream=True, stream_options=USAGE)
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == "fake-openai heard: hello there"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    last = chunks[-1]
    assert last.choices == []
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert last.usage.prompt_tokens_details.cached_tokens == 0
    assert all(chunk.usage is None for chunk in chunks[:-1])


def test_cached_tokens_are_reported(client):
    chunks = list(client.chat.completions.create(model=MODEL, messages=ask("fake:cached"), stream=True, stream_options=USAGE))
    usage = chunks[-1].usage
    assert usage.prompt_tokens_details.cached_tokens == usage.prompt_tokens // 2 > 0


def test_accumulator_assembles_split_arguments(client):
    prompt = 'fake:call Read {"path": "/etc/hosts", "limit": 20}'
    with client.chat.completions.stream(
        model=MODEL, messages=ask(prompt), tools=[READ_TOOL], stream_options=USAGE
    ) as stream:
        fragments = [event for event in stream if event.type == "tool_calls.function.arguments.delta"]
        completion = stream.get_final_completion()
    assert len(fragments) > 3, "the arguments come in many small pieces"
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.id.startswith("call_") and len(call.id) == 29
    assert call.function.name == "Read"
    assert json.loads(call.function.arguments) == {"path": "/etc/hosts", "limit": 20}
    assert completion.usage.completion_tokens > 0


@pytest.mark.parametrize("directive", ["parallel", "interleaved"])
def test_accumulator_assembles_parallel_calls(client, directive):
    with client.chat.completions.stream(
        model=MODEL, messages=ask(f"fake:{directive} Read"), tools=[READ_TOOL], stream_options=USAGE
    ) as stream:
        completion = stream.get_final_completion()
    calls = completion.choices[0].message.tool_calls
    assert [json.loads(call.function.arguments)["n"] for call in calls] == [1, 2]
    assert len({call.id for call in calls}) == 2


def test_streamed_reasoning_fields(client):
    chunks = list(client.chat.completions.create(model=MODEL, messages=ask("fake:reasoning"), stream=True, stream_options=USAGE))
    deltas = [chunk.choices[0].delta for chunk in chunks if chunk.choices]
    thought = "".join(getattr(delta, "reasoning_content", None) or "" for delta in deltas)
    assert thought == "Let me think about that for a moment."
    assert chunks[-1].usage.completion_tokens_details.reasoning_tokens == 10

    chunks = list(
        client.chat.completions.create(model=MODEL, messages=ask("fake:reasoning-field"), stream=True, stream_options=USAGE)
    )
    deltas = [chunk.choices[0].delta for chunk in chunks if chunk.choices]
    assert "".join(getattr(delta, "reasoning", None) or "" for delta in deltas) == "Let me think about that for a moment."


def test_non_streamed_tool_loop(client):
    first = client.chat.completions.create(model=MODEL, messages=ask("fake:chain Read"), tools=[READ_TOOL])
    message = first.choices[0].message
    assert first.object == "chat.completion"
    assert message.content is None
    (call,) = message.tool_calls
    assert json.loads(call.function.arguments) == {"step": 1}

    history = ask("fake:chain Read") + [
        message.model_dump(exclude_none=True, exclude={"refusal", "annotations"}),
        {"role": "tool", "tool_call_id": call.id, "content": "first result"},
    ]
    second = client.chat.completions.create(model=MODEL, messages=history, tools=[READ_TOOL])
    (again,) = second.choices[0].message.tool_calls
    assert json.loads(again.function.arguments) == {"step": 2}

    history += [
        second.choices[0].message.model_dump(exclude_none=True, exclude={"refusal", "annotations"}),
        {"role": "tool", "tool_call_id": again.id, "content": "second result"},
    ]
    done = client.chat.completions.create(model=MODEL, messages=history, tools=[READ_TOOL])
    assert done.choices[0].message.content == "fake-openai got 1 tool results: second result"
    assert done.choices[0].finish_reason == "stop"


def test_azure_client(fake_openai):
    azure = openai.AzureOpenAI(
        azure_endpoint=fake_openai, api_version="2024-10-21", api_key=FAKE_OPENAI_KEY, max_retries=0
    )
    answer = azure.chat.completions.create(model="my-gpt-4o", messages=ask("hello azure"))
    assert answer.model == "my-gpt-4o"
    assert answer.choices[0].message.content == "fake-openai heard: hello azure"

    with azure.chat.completions.stream(
        model="my-gpt-4o", messages=ask("fake:parallel Read"), tools=[READ_TOOL], stream_options=USAGE
    ) as stream:
        completion = stream.get_final_completion()
    assert [json.loads(c.function.arguments) for c in completion.choices[0].message.tool_calls] == [{"n": 1}, {"n": 2}]

    with urllib.request.urlopen(fake_openai + "/_fake/requests") as response:
        recorded = json.load(response)
    azure_requests = [r for r in recorded if r["path"] == "/openai/deployments/my-gpt-4o/chat/completions"]
    assert azure_requests and all(r["query"] == "api-version=2024-10-21" for r in azure_requests)
    assert all(r["headers"]["api-key"] == FAKE_OPENAI_KEY for r in azure_requests)

    stale = openai.AzureOpenAI(azure_endpoint=fake_openai, api_version="latest", api_key=FAKE_OPENAI_KEY, max_retries=0)
    with pytest.raises(openai.BadRequestError, match="API version not supported"):
        stale.chat.completions.create(model="my-gpt-4o", messages=ask("hi"))


@pytest.mark.parametrize(
    "directive, exception, status",
    [
        ("fake:error 400", openai.BadRequestError, 400),
        ("fake:error 401", openai.AuthenticationError, 401),
        ("fake:error 403", openai.PermissionDeniedError, 403),
        ("fake:error 404", openai.NotFoundError, 404),
        ("fake:error 429", openai.RateLimitError, 429),
        ("fake:error 500", openai.InternalServerError, 500),
        ("fake:error 503", openai.InternalServerError, 503),
        ("fake:overflow", openai.BadRequestError, 400),
    ],
)
def test_errors_raise_the_sdk_exceptions(client, directive, exception, status):
    with pytest.raises(exception) as raised:
        client.chat.completions.create(model=MODEL, messages=ask(directive), stream=True, stream_options=USAGE)
    assert raised.value.status_code == status
    assert raised.value.type in ("invalid_request_error", "requests", "server_error")
    if directive == "fake:error 429":
        assert raised.value.response.headers["retry-after"] == "7"
        assert raised.value.code == "rate_limit_exceeded"
    if directive == "fake:overflow":
        assert raised.value.code == "context_length_exceeded"


def test_refusals_and_keys(client, fake_openai):
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="o3", messages=ask("hi"), max_tokens=100)
    assert raised.value.code == "unsupported_parameter" and raised.value.param == "max_tokens"

    with pytest.raises(openai.BadRequestError, match="include_usage"):
        client.chat.completions.create(model=MODEL, messages=ask("hi"), stream=True)

    wrong = openai.OpenAI(base_url=fake_openai + "/v1", api_key="sk-not-the-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as raised:
        wrong.chat.completions.create(model=MODEL, messages=ask("hi"))
    assert raised.value.code == "invalid_api_key"


def test_a_stream_that_breaks_with_an_error_event(client):
    stream = client.chat.completions.create(
        model=MODEL, messages=ask("fake:mid-stream-error"), stream=True, stream_options=USAGE
    )
    with pytest.raises(openai.APIError, match="The server had an error"):
        for _ in stream:
            pass
