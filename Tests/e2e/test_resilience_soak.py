"""A resilience soak: 1,000 requests, half streamed, at concurrency 16, through a model group of two
Gemini deployments whose fake fails them on its own seeded fault plans (429 with RetryInfo, 503, 500,
resets before the head and mid-stream, stalls, slow heads, truncated and garbage answers), with a
clean Anthropic fallback group behind them.

What must hold, and why it is exactly checkable:
- every answer is well formed: a JSON message, or a stream that ends in `message_stop` or `event: error`;
- a failure before the first byte reached the client is never seen by it: a retry or the fallback
  absorbs it. A JSON answer is read whole before the client gets a byte, so every fault on one is
  absorbed; the gateway holds a stream's `message_start` until the first content, and the fake sends
  content before every mid-stream fault, so the faults a client can see are exactly the fake's
  `mid_stream_faults`, and each must be one `event: error` after that content;
- `/metrics` counts what the fakes did: each failed Gemini attempt is one upstream error of its type,
  each failure before the first byte one retry or one fallback, each fallback one Anthropic answer.
  (curl resends a request unseen when a reused connection turns out dead before any byte — the
  fake's `resets_on_reused_connections` — so those resets are no failed attempt.)
"""

import asyncio
import json
import time
import urllib.request
from dataclasses import dataclass

import httpx2 as httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import FAKE_ANTHROPIC_KEY, FAKE_GEMINI_KEY, MASTER_KEY, Gateway, start_fake

REQUESTS = 1000
CONCURRENCY = 16
# Small delays keep the soak short; the gateway's idle timeout (below) ends a stall before the fake does.
TIMING = "slow_ms=100,stall_ms=1500,retry_ms=1000"
TIMING_KEYS = {entry.split("=")[0] for entry in TIMING.split(",")}
PLANS = {
    # One key that hits its quota now and then: each 429 says "retry in 1s", and cools it that long.
    "soak-a": "429=0.02,503=0.03,500=0.02,reset_before_head=0.02,reset_mid_stream=0.03,truncated=0.02,"
    f"garbage=0.02,garbage_first=0.02,stall=0.02,slow_head=0.03,seed=11,{TIMING}",
    # Another key with quota to spare, on a flaky path.
    "soak-b": "503=0.03,500=0.03,reset_before_head=0.03,reset_mid_stream=0.03,truncated=0.03,"
    f"garbage=0.03,garbage_first=0.02,stall=0.02,slow_head=0.03,seed=12,{TIMING}",
}
# The upstream error type the gateway counts for each fault (slow_head is no failure). Truncated and
# garbage answers are `stream_api_error`, as the gateway words an unreadable answer; one type for
# three faults, so they are checked through the totals.
ERROR_TYPE = {
    "429": "http_429",
    "503": "http_503",
    "500": "http_500",
    "reset_before_head": "connection_reset",
    "reset_mid_stream": "stream_broken",
    "stall": "timeout",
}


@pytest.fixture(scope="module")
def faulty_gemini():
    yield from start_fake("gemini", FAKE_GEMINI_KEY)


@pytest.fixture(scope="module")
def soak_gateway(faulty_gemini, fake_anthropic, tmp_path_factory):
    deployments = "".join(
        f"""
  - model_name: soak
    litellm_params:
      model: gemini/gemini-2.5-flash
      api_key: {FAKE_GEMINI_KEY}
      api_base: "{faulty_gemini}/faults/{spec}/v1beta"
"""
        for spec in PLANS.values()
    )
    config = f"""
model_list:{deployments}
  - model_name: soak-fallback
    litellm_params:
      model: anthropic/claude-sonnet-4-5-20250929
      api_key: {FAKE_ANTHROPIC_KEY}
      api_base: {fake_anthropic}
router_settings:
  num_retries: 3
  allowed_fails: 30
  cooldown_time: 0.2
  fallbacks: [{{soak: [soak-fallback]}}]
switchboard:
  upstream_idle_timeout_seconds: 0.5
general_settings:
  master_key: {MASTER_KEY}
"""
    gateway = Gateway(config, tmp_path_factory.mktemp("soak"))
    yield gateway
    assert gateway.stop() == 0


@dataclass
class Outcome:
    index: int
    stream: bool
    prompt: str
    status: int = 0
    text: str = ""
    # complete | error_event | http_error | malformed
    kind: str = "malformed"
    problem: str = ""
    error_type: str = ""

    @property
    def served_by(self) -> str:
        for provider in ("gemini", "anthropic"):
            if self.text.startswith(f"fake-{provider}"):
                return provider
        return ""

    def expected(self, provider: str) -> str:
        return f"fake-{provider} heard: {self.prompt}"


def parse_events(raw: str) -> list[tuple[str, dict]]:
    """`event:`/`data:` frames; a frame that is not one event with JSON data raises ValueError."""
    events = []
    for frame in raw.split("\n\n"):
        if not frame.strip():
            continue
        fields = dict(line.split(": ", 1) for line in frame.split("\n"))
        if set(fields) != {"event", "data"}:
            raise ValueError(f"not an event frame: {frame!r}")
        data = json.loads(fields["data"])
        if data.get("type") != fields["event"]:
            raise ValueError(f"event {fields['event']} carries type {data.get('type')}")
        events.append((fields["event"], data))
    return events


def judge_stream(outcome: Outcome, raw: str) -> None:
    try:
        events = [(name, data) for name, data in parse_events(raw) if name != "ping"]
    except ValueError as error:
        outcome.problem = str(error)
        return
    names = [name for name, _ in events]
    deltas = [data.get("delta", {}) for name, data in events if name == "content_block_delta"]
    outcome.text = "".join(delta.get("text", "") for delta in deltas if delta.get("type") == "text_delta")
    if names == ["error"]:
        # Well formed, but a failure before any content: the check below on errors catches it.
        outcome.kind = "error_event"
        outcome.error_type = events[0][1]["error"]["type"]
    elif not names or names[0] != "message_start":
        outcome.problem = f"does not begin with message_start: {names[:3]}"
    elif names[-1] == "message_stop" and "error" not in names:
        if names[-2] != "message_delta" or outcome.text not in (outcome.expected("gemini"), outcome.expected("anthropic")):
            outcome.problem = f"complete but wrong: {names} {outcome.text!r}"
        else:
            outcome.kind = "complete"
    elif names[-1] == "error" and names.count("error") == 1 and "message_stop" not in names:
        outcome.error_type = events[-1][1]["error"]["type"]
        if not outcome.text or not outcome.expected(outcome.served_by or "gemini").startswith(outcome.text):
            outcome.problem = f"an error event without the content before it: {outcome.text!r}"
        else:
            outcome.kind = "error_event"
    else:
        outcome.problem = f"ends neither in message_stop nor in one error event: {names}"


def judge_message(outcome: Outcome, body: bytes) -> None:
    try:
        message = json.loads(body)
    except ValueError:
        outcome.problem = f"not JSON: {body[:200]!r}"
        return
    if outcome.status != 200:
        outcome.kind = "http_error"
        outcome.error_type = message.get("error", {}).get("type", "")
        outcome.problem = f"HTTP {outcome.status}: {body[:300]!r}"
        return
    content = message.get("content") or [{}]
    outcome.text = content[0].get("text", "")
    if message.get("type") != "message" or message.get("stop_reason") != "end_turn":
        outcome.problem = f"not a finished message: {body[:300]!r}"
    elif outcome.text not in (outcome.expected("gemini"), outcome.expected("anthropic")):
        outcome.problem = f"wrong text: {outcome.text!r}"
    else:
        outcome.kind = "complete"


async def one_request(client: httpx.AsyncClient, url: str, index: int) -> Outcome:
    outcome = Outcome(index=index, stream=index % 2 == 0, prompt=f"soak request {index}")
    body = {
        "model": "soak",
        "max_tokens": 64,
        "stream": outcome.stream,
        "messages": [{"role": "user", "content": outcome.prompt}],
    }
    try:
        async with client.stream("POST", url, json=body) as response:
            outcome.status = response.status_code
            raw = await response.aread()
    except httpx.HTTPError as error:
        outcome.problem = f"transport: {type(error).__name__}: {error}"
        return outcome
    if outcome.stream and outcome.status == 200:
        judge_stream(outcome, raw.decode())
    else:
        judge_message(outcome, raw)
    return outcome


async def soak_traffic(gateway) -> list[Outcome]:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    headers = {"x-api-key": MASTER_KEY, "anthropic-version": "2023-06-01"}
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=30) as client:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def bounded(index: int) -> Outcome:
            async with gate:
                return await one_request(client, gateway.url + "/v1/messages", index)

        return await asyncio.gather(*(bounded(index) for index in range(REQUESTS)))


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def scrape(gateway) -> list[tuple[str, dict, float]]:
    request = urllib.request.Request(gateway.url + "/metrics", headers={"x-api-key": MASTER_KEY})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def total(samples, name: str, **labels) -> float:
    return sum(value for sample, got, value in samples if sample == name and all(got.get(k) == v for k, v in labels.items()))


@pytest.fixture(scope="module")
def soak(soak_gateway, faulty_gemini):
    started = time.monotonic()
    outcomes = asyncio.run(asyncio.wait_for(soak_traffic(soak_gateway), timeout=110))
    elapsed = time.monotonic() - started
    # A request's metrics are recorded when it finishes, a moment after its last byte.
    deadline = time.monotonic() + 10
    while True:
        samples = scrape(soak_gateway)
        if total(samples, "switchboard_requests_total", route="/v1/messages") >= REQUESTS or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    stats = get_json(faulty_gemini + "/_fake/stats")
    # A plan no request reached has no entry yet.
    plans = [stats["plans"].get(spec, {"clean": 0, "faults": {}}) for spec in PLANS.values()]
    counts = {kind: sum(1 for o in outcomes if o.kind == kind) for kind in ("complete", "error_event", "http_error", "malformed")}
    served = {provider: sum(1 for o in outcomes if o.served_by == provider) for provider in ("gemini", "anthropic")}
    routing = {
        f"{name.removeprefix('switchboard_')}{{{','.join(f'{k}={v}' for k, v in sorted(labels.items()))}}}": value
        for name, labels, value in samples
        if name in ("switchboard_retries_total", "switchboard_fallbacks_total", "switchboard_deployment_cooldowns_total")
        and value
    }
    print(f"\nsoak: {REQUESTS} requests in {elapsed:.1f} s; {counts}; served by {served}; routing: {routing}")
    print(f"fake: {json.dumps(stats['faults'])}, {stats['mid_stream_faults']} mid-stream, clean {stats['clean']}")
    return {"outcomes": outcomes, "samples": samples, "stats": stats, "plans": plans, "elapsed": elapsed}


def describe(outcomes: list[Outcome], limit: int = 5) -> str:
    return "; ".join(
        f"#{o.index} {'stream' if o.stream else 'json'} {o.kind} HTTP {o.status} {o.error_type}: {o.problem}"
        for o in outcomes[:limit]
    )


def test_every_answer_is_well_formed(soak):
    malformed = [o for o in soak["outcomes"] if o.kind == "malformed"]
    assert not malformed, f"{len(malformed)} malformed answers: {describe(malformed)}"


def test_no_failure_before_the_first_byte_reaches_the_client(soak):
    outcomes = soak["outcomes"]
    refused = [o for o in outcomes if o.kind == "http_error" or (o.status != 200 and o.kind != "malformed")]
    assert not refused, f"{len(refused)} requests got an error status: {describe(refused)}"
    json_errors = [o for o in outcomes if not o.stream and o.kind != "complete"]
    assert not json_errors, f"every fault on a JSON answer happens before the client's first byte: {describe(json_errors)}"
    by_status = {
        labels["status"]: value
        for name, labels, value in soak["samples"]
        if name == "switchboard_model_group_requests_total" and labels.get("model_group") == "soak" and value
    }
    assert by_status == {"200": REQUESTS}, f"the gateway's own count of what clients got: {by_status}"


def test_every_mid_stream_fault_is_one_error_event(soak):
    errors = [o for o in soak["outcomes"] if o.kind == "error_event"]
    early = [o for o in errors if not o.text]
    assert not early, f"{len(early)} streams failed before any content reached the client: {describe(early)}"
    assert all(o.stream and o.served_by == "gemini" for o in errors), describe(errors)
    assert len(errors) == soak["stats"]["mid_stream_faults"], (
        f"{len(errors)} streams ended in event: error; the fake broke {soak['stats']['mid_stream_faults']} "
        f"streams after content ({soak['stats']['streamed_faults']})"
    )


def test_upstream_errors_in_metrics_equal_the_fakes_faults(soak):
    samples, stats = soak["samples"], soak["stats"]
    faults = stats["faults"]
    hidden = stats["resets_on_reused_connections"]
    counted = {
        fault: total(samples, "switchboard_upstream_errors_total", provider="gemini", type=error_type)
        for fault, error_type in ERROR_TYPE.items()
    }
    expected = {fault: faults[fault] - (hidden if fault == "reset_before_head" else 0) for fault in ERROR_TYPE}
    assert counted == expected, f"metrics {counted}, fake {expected} (all faults {faults}, {hidden} resent unseen)"
    unreadable = total(samples, "switchboard_upstream_errors_total", provider="gemini", type="stream_api_error")
    assert unreadable == faults["truncated"] + faults["garbage"] + faults["garbage_first"], faults
    failures = sum(faults.values()) - faults["slow_head"] - hidden
    gemini_errors = {
        labels["type"]: value
        for name, labels, value in samples
        if name == "switchboard_upstream_errors_total" and labels.get("provider") == "gemini" and value
    }
    assert sum(gemini_errors.values()) == failures, f"every failed attempt counts once: metrics {gemini_errors}, fake {faults}"
    assert total(samples, "switchboard_upstream_errors_total", provider="anthropic") == 0, "the fallback is clean"


def test_retries_and_fallbacks_account_for_every_absorbed_failure(soak):
    samples, stats, outcomes = soak["samples"], soak["stats"], soak["outcomes"]
    faults = stats["faults"]
    before_first_byte = (
        sum(faults.values()) - faults["slow_head"] - stats["mid_stream_faults"] - stats["resets_on_reused_connections"]
    )
    retries = total(samples, "switchboard_retries_total", model_group="soak")
    fallbacks = [
        (labels, value)
        for name, labels, value in samples
        if name == "switchboard_fallbacks_total" and labels.get("from") == "soak" and value
    ]
    # A fallback taken after a failed attempt names that failure's class; one taken because the whole
    # group was cooling (`unavailable`) made no attempt.
    after_failure = sum(value for labels, value in fallbacks if labels.get("reason") != "unavailable")
    assert retries + after_failure == before_first_byte, (
        f"{retries} retries + {after_failure} fallbacks after a failure; the fake failed {before_first_byte} "
        f"attempts before the client's first byte; fallbacks: {fallbacks}"
    )
    assert all(labels.get("to") == "soak-fallback" for labels, _ in fallbacks), fallbacks
    # By class: a 429 is a rate limit, a stall on a JSON answer a timeout, every other failure before
    # the client's first byte a server error (the stalls and breaks of streams are past the first byte).
    streamed = stats["streamed_faults"]
    expected = {
        "rate_limit": faults["429"],
        "timeout": faults["stall"] - streamed["stall"],
    }
    expected["server_error"] = before_first_byte - sum(expected.values())
    absorbed = {
        reason: total(samples, "switchboard_retries_total", model_group="soak", reason=reason)
        + total(samples, "switchboard_fallbacks_total", **{"from": "soak", "reason": reason})
        for reason in expected
    }
    assert absorbed == expected, f"retries and fallbacks by reason {absorbed}, the fake's failures {expected}"
    by_anthropic = sum(1 for o in outcomes if o.served_by == "anthropic")
    assert sum(value for _, value in fallbacks) == by_anthropic, "each fallback is one answer from the fallback group"


def test_the_soak_exercised_every_fault_both_deployments_and_the_breaker(soak):
    """Guards the soak itself: a plan that injected nothing would make every check above vacuous."""
    for spec, plan in zip(PLANS.values(), soak["plans"]):
        assert plan["clean"] > 0, f"both deployments served: {spec}"
    injected = {name for plan in soak["plans"] for name, count in plan["faults"].items() if count}
    planned = {entry.split("=")[0] for spec in PLANS.values() for entry in spec.split(",")} - {"seed", *TIMING_KEYS}
    assert injected == planned, soak["stats"]["faults"]
    assert soak["stats"]["mid_stream_faults"] > 0
    outcomes = soak["outcomes"]
    assert sum(1 for o in outcomes if o.stream) == REQUESTS // 2
    assert sum(1 for o in outcomes if o.served_by == "gemini") > REQUESTS // 2, "Gemini serves most of the traffic"
    assert any(o.served_by == "anthropic" for o in outcomes), "the fallback group served some"
    cooldowns = total(soak["samples"], "switchboard_deployment_cooldowns_total", model_group="soak")
    assert cooldowns > 0, "a 429 with RetryInfo cools its deployment"
