"""A client that hangs up, seen from outside: through the real binary, the fake Gemini process and /metrics.

Each case starts an answer the fake keeps silent for 20 s, closes the client's socket, then checks within
one second that /metrics counts the disconnect with nothing left in flight, and that the fake saw the
gateway close its upstream connection (the transfer was removed, not left to run).
"""

import json
import socket
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from conftest import FAKE_GEMINI_KEY, MASTER_KEY, Gateway


@pytest.fixture(scope="module")
def gateway(fake_gemini, tmp_path_factory):
    """A gateway of its own, so that nothing else is in flight while these tests count."""
    config = f"""
model_list:
  - model_name: "gemini-*"
    litellm_params: {{model: "gemini/gemini-*", api_key: {FAKE_GEMINI_KEY}, api_base: "{fake_gemini}/v1beta"}}
general_settings:
  master_key: {MASTER_KEY}
# A stream is held until its first content or first heartbeat: a silent stream's head goes out after 0.5 s.
switchboard:
  ping_interval_seconds: 0.5
"""
    running = Gateway(config, tmp_path_factory.mktemp("hang-up-gateway"))
    yield running
    assert running.stop() == 0


def scrape(gateway) -> dict:
    request = urllib.request.Request(
        gateway.url + "/metrics",
        headers={"Accept": "application/openmetrics-text; version=1.0.0", "Authorization": f"Bearer {MASTER_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read().decode()
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def value(values: dict, name: str, **labels) -> float:
    return values.get((name, tuple(sorted(labels.items()))), 0.0)


def open_upstream_connections(fake_gemini: str) -> int:
    with urllib.request.urlopen(fake_gemini + "/_fake/stats", timeout=5) as response:
        return json.load(response)["open_connections"]


def start_request(gateway, stream: bool) -> socket.socket:
    body = json.dumps(
        {
            "model": "gemini-2.5-flash",
            "max_tokens": 64,
            "stream": stream,
            "messages": [{"role": "user", "content": "fake:silence 20"}],
        }
    ).encode()
    client = socket.create_connection(("127.0.0.1", gateway.port))
    client.sendall(
        b"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {MASTER_KEY}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    return client


@pytest.mark.parametrize("stream", [True, False], ids=["silent-stream", "non-streaming-wait"])
def test_hang_up_is_seen_within_a_second(gateway, fake_gemini, stream):
    before = scrape(gateway)
    disconnects = value(before, "switchboard_client_disconnects_total", route="/v1/messages")
    requests_before = fake_requests(fake_gemini)

    client = start_request(gateway, stream)
    if stream:
        client.settimeout(5)
        head = client.recv(4096)
        assert head.startswith(b"HTTP/1.1 200"), head
    # The upstream call is under way once the fake has the request.
    deadline = time.monotonic() + 5
    while fake_requests(fake_gemini) == requests_before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fake_requests(fake_gemini) > requests_before, "the gateway never called the fake"
    upstream_open = open_upstream_connections(fake_gemini)
    assert value(scrape(gateway), "switchboard_in_flight_requests") == 1

    client.close()
    closed_at = time.monotonic()
    seen = None
    # One scrape is not a snapshot across families: it reads the in-flight gauges, then the counters, so a
    # request that finishes in between shows as counted and still in flight until the next scrape.
    while time.monotonic() - closed_at < 1.0:
        values = scrape(gateway)
        counted = value(values, "switchboard_client_disconnects_total", route="/v1/messages") >= disconnects + 1
        if counted and value(values, "switchboard_in_flight_requests") == 0:
            seen = values
            print(f"hang-up ({'stream' if stream else 'non-streaming'}) counted {(time.monotonic() - closed_at) * 1000:.1f} ms after the close")
            break
        time.sleep(0.02)
    assert seen is not None, (
        f"the hang-up was not counted (and the request gone) within 1 s: {disconnects} → "
        f"{value(values, 'switchboard_client_disconnects_total', route='/v1/messages')}, "
        f"in flight {value(values, 'switchboard_in_flight_requests')}"
    )
    assert value(seen, "switchboard_in_flight_streams") == 0

    # The fake sees the gateway's upstream connection close (curl removed the transfer).
    while open_upstream_connections(fake_gemini) >= upstream_open and time.monotonic() - closed_at < 1.0:
        time.sleep(0.02)
    assert open_upstream_connections(fake_gemini) < upstream_open, "the upstream connection stayed open"


def fake_requests(fake_gemini: str) -> int:
    with urllib.request.urlopen(fake_gemini + "/_fake/stats", timeout=5) as response:
        return json.load(response)["requests"]


@pytest.mark.parametrize("model", ["gemini-2.5-flash/../../../files?x=", "gemini-x:countTokens"])
def test_model_name_cannot_steer_the_upstream_url(gateway, fake_gemini, model):
    before = fake_requests(fake_gemini)
    body = json.dumps({"model": model, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}).encode()
    request = urllib.request.Request(
        gateway.url + "/v1/messages",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {MASTER_KEY}"},
    )
    with pytest.raises(urllib.error.HTTPError) as failure:
        urllib.request.urlopen(request, timeout=5)
    assert failure.value.code == 400
    error = json.load(failure.value)["error"]
    assert error["type"] == "invalid_request_error"
    assert model in error["message"]
    assert fake_requests(fake_gemini) == before, "the upstream was called"
