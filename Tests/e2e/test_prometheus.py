"""A real Prometheus (Debian's package) scraping a running switchboard: promtool, OpenMetrics,
PromQL values, exemplars, and every dashboard panel's query."""

import json
import os
import subprocess
import time
import urllib.parse
import urllib.request

import anthropic
import httpx2 as httpx
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from conftest import FAKE_GEMINI_KEY, MASTER_KEY, ROOT, FakeVertex, Gateway, free_port, service_account_key

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"


@pytest.fixture(scope="module")
def vertex(tmp_path_factory):
    key = service_account_key("metrics-project", "metrics@metrics-project.iam.gserviceaccount.com")
    fake = FakeVertex(tmp_path_factory.mktemp("metrics-vertex"), "metrics-project", {"key": key})
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def metrics_gateway(fake_gemini, vertex, tmp_path_factory):
    config = f"""
model_list:
  - {{model_name: echo, litellm_params: {{model: mock/echo, mock_chunk_chars: 4}}}}
  - {{model_name: slow, litellm_params: {{model: mock/slow, mock_chunk_chars: 1, mock_delay_ms: 30}}}}
  - model_name: flash
    litellm_params: {{model: gemini/gemini-2.5-flash, api_key: {FAKE_GEMINI_KEY}, api_base: "{fake_gemini}/v1beta"}}
  - model_name: backed
    litellm_params: {{model: gemini/gemini-2.5-flash, api_key: {FAKE_GEMINI_KEY}, api_base: "{fake_gemini}/v1beta"}}
  - model_name: vx
    litellm_params: {{model: vertex_ai/gemini-2.5-flash, vertex_credentials: "{vertex.keys['key']}", api_base: "{vertex.url}"}}
router_settings:
  fallbacks: [{{backed: [echo]}}]
litellm_settings:
  max_budget: 1000  # a gateway budget, for the budget panels (the master key's spend counts against it)
general_settings:
  master_key: {MASTER_KEY}
"""
    gateway = Gateway(config, tmp_path_factory.mktemp("metrics-gateway"))
    yield gateway
    assert gateway.stop() == 0


@pytest.fixture(scope="module")
def prometheus(metrics_gateway, tmp_path_factory):
    directory = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    config = directory / "prometheus.yml"
    config.write_text(
        f"""
global:
  scrape_interval: 1s
  scrape_timeout: 1s
storage:
  exemplars:
    max_exemplars: 100000
scrape_configs:
  - job_name: switchboard
    static_configs:
      - targets: ["127.0.0.1:{metrics_gateway.port}"]
"""
    )
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--enable-feature=exemplar-storage",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(directory / "prometheus.log", "w"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/-/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=20)


def query(prometheus, promql):
    response = httpx.get(prometheus + "/api/v1/query", params={"query": promql}, timeout=10).json()
    assert response["status"] == "success", (promql, response)
    return response["data"]["result"]


def scalar(prometheus, promql):
    result = query(prometheus, promql)
    return float(result[0]["value"][1]) if result else None


def traffic(gateway):
    """Known traffic: 5 non-streaming and 3 streaming echoes, 2 Gemini calls with a tool schema,
    one Gemini upstream error, one that falls back to the echo, one stream the client abandons, and
    one Gemini call on Vertex AI (its token refresh feeds the credential panels)."""
    client = anthropic.Anthropic(base_url=gateway.url, api_key=MASTER_KEY, max_retries=0)
    output_tokens = 0
    for index in range(5):
        message = client.messages.create(model="echo", max_tokens=32, messages=[{"role": "user", "content": f"hello {index}"}])
        output_tokens += message.usage.output_tokens
    for index in range(3):
        with client.messages.stream(model="echo", max_tokens=32, messages=[{"role": "user", "content": f"stream {index}"}]) as stream:
            output_tokens += stream.get_final_message().usage.output_tokens
    tools = [{"name": "Read", "input_schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {"p": {"type": "string"}}}}]
    for index in range(2):
        message = client.messages.create(model="flash", max_tokens=32, tools=tools, messages=[{"role": "user", "content": f"gemini {index}"}])
        output_tokens += message.usage.output_tokens
    with pytest.raises(anthropic.APIStatusError):
        client.messages.create(model="flash", max_tokens=32, messages=[{"role": "user", "content": "fake:error 503"}])
    client.messages.create(model="backed", max_tokens=32, messages=[{"role": "user", "content": "fake:error 503"}])
    client.messages.create(model="vx", max_tokens=32, messages=[{"role": "user", "content": "on vertex"}])
    with httpx.stream(
        "POST",
        gateway.url + "/v1/messages",
        headers={"x-api-key": MASTER_KEY},
        json={"model": "slow", "max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": "abandon me please"}]},
        timeout=10,
    ) as response:
        next(response.iter_bytes())
    return output_tokens


@pytest.fixture(scope="module")
def after_traffic(metrics_gateway, prometheus):
    output_tokens = traffic(metrics_gateway)
    # Wait until Prometheus has scraped the final state twice (so rate() has two samples).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if scalar(prometheus, 'sum(switchboard_requests_total{route="/v1/messages",provider="gemini"})') == 3:
            break
        time.sleep(0.5)
    time.sleep(3)
    return output_tokens


def scrape(gateway, accept=None):
    headers = {"accept": accept} if accept else {}
    return httpx.get(gateway.url + "/metrics", headers=headers, timeout=10)


def test_promtool_lints_the_text_format(metrics_gateway, after_traffic):
    text = scrape(metrics_gateway).text
    result = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_openmetrics_parses_strictly_with_exemplars(metrics_gateway, after_traffic):
    response = scrape(metrics_gateway, "application/openmetrics-text; version=1.0.0")
    assert response.headers["content-type"] == "application/openmetrics-text; version=1.0.0; charset=utf-8"
    assert response.text.endswith("# EOF\n")
    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    requests = families["switchboard_requests"]
    assert requests.type == "counter"
    exemplars = [sample.exemplar for sample in requests.samples if sample.exemplar]
    assert exemplars and all(len(e.labels["trace_id"]) == 32 for e in exemplars)
    duration = families["gen_ai_client_operation_duration_seconds"]
    assert any(sample.exemplar for sample in duration.samples if sample.name.endswith("_bucket"))


def test_prometheus_scraped_openmetrics(prometheus, after_traffic):
    assert scalar(prometheus, 'up{job="switchboard"}') == 1
    assert scalar(prometheus, 'scrape_samples_scraped{job="switchboard"}') > 50
    # Exemplars exist only in OpenMetrics: finding them stored proves Prometheus negotiated that format.
    now = time.time()
    stored = httpx.get(prometheus + "/api/v1/query_exemplars",
                       params={"query": "switchboard_requests_total", "start": now - 300, "end": now}, timeout=10).json()
    assert any(series["exemplars"] for series in stored["data"]), stored


def test_promql_request_and_token_counts(prometheus, after_traffic):
    assert scalar(prometheus, 'sum(switchboard_requests_total{route="/v1/messages",provider="mock",status="200"})') == 10
    assert scalar(prometheus, 'sum(switchboard_requests_total{route="/v1/messages",provider="gemini",status="200"})') == 2
    assert scalar(prometheus, 'sum(switchboard_requests_total{route="/v1/messages",provider="gemini",status="529"})') == 1
    # Each 503 was retried num_retries (2) times on its group's only deployment, flash's and then backed's
    # (which then fell back to echo): six failed attempts.
    assert scalar(prometheus, 'sum(switchboard_upstream_errors_total{provider="gemini",type="http_503"})') == 6
    assert scalar(prometheus, 'sum(switchboard_fallbacks_total{from="backed",to="echo"})') == 1
    assert scalar(prometheus, 'sum(switchboard_retries_total{model_group="flash",reason="server_error"})') == 2
    assert scalar(prometheus, 'sum(switchboard_model_group_requests_total{model_group="flash",status="529"})') == 1
    # On /v1/messages only: a scrape that outlasts Prometheus's 1 s timeout on a loaded machine is a hang-up too.
    assert scalar(prometheus, 'sum(switchboard_client_disconnects_total{route="/v1/messages"})') == 1
    assert scalar(prometheus, 'sum(switchboard_tool_schema_rewrites_total)') == 2
    assert scalar(prometheus, 'sum(switchboard_tool_call_translation_errors_total)') == 0
    # The abandoned stream's tokens are counted too (from its message_start and what it produced).
    assert scalar(prometheus, 'sum(gen_ai_client_token_usage_sum{gen_ai_token_type="output", gen_ai_request_model="slow"})') >= 1
    completed = scalar(prometheus, 'sum(gen_ai_client_token_usage_sum{gen_ai_token_type="output", gen_ai_request_model=~"echo|flash"})')
    assert completed == after_traffic
    assert scalar(prometheus, 'sum(gen_ai_client_operation_duration_seconds_count{gen_ai_request_model="echo"})') == 8
    assert scalar(prometheus, 'sum(switchboard_cost_usd_total{model="gemini-2.5-flash"})') > 0


def test_exemplars_come_back_from_prometheus(prometheus, after_traffic):
    now = time.time()
    response = httpx.get(
        prometheus + "/api/v1/query_exemplars",
        params={"query": "gen_ai_client_operation_duration_seconds_bucket", "start": now - 300, "end": now},
        timeout=10,
    ).json()
    assert response["status"] == "success", response
    exemplars = [e for series in response["data"] for e in series["exemplars"]]
    assert exemplars, response
    assert all(len(e["labels"]["trace_id"]) == 32 for e in exemplars)


def test_every_dashboard_panel_query_returns_data(prometheus, after_traffic):
    dashboard = json.loads((ROOT / "dashboards" / "switchboard.json").read_text())
    failures = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"].replace("$__rate_interval", "1m")
            response = httpx.get(prometheus + "/api/v1/query", params={"query": expr}, timeout=10).json()
            if response.get("status") != "success":
                failures.append((panel["title"], expr, response.get("error")))
            elif not response["data"]["result"]:
                failures.append((panel["title"], expr, "no data"))
    assert not failures, failures


def test_each_replica_names_itself(metrics_gateway):
    """switchboard_instance_info: the replica's switchboard.instance_id (by default host name and port), so
    dashboards over several replicas can tell them apart beside Prometheus' own instance label."""
    text = urllib.request.urlopen(metrics_gateway.url + "/metrics").read().decode()
    lines = [line for line in text.splitlines() if line.startswith("switchboard_instance_info{")]
    assert len(lines) == 1 and lines[0].endswith(" 1"), lines
    assert f':{metrics_gateway.port}"' in lines[0], lines

