"""dashboards/alerts.yml evaluated by a real Prometheus (Debian's) scraping a real gateway every second:
with faults injected, exactly the alerts that describe them fire; on clean traffic, none does.

The rules are loaded as written except that every `for:` becomes 0s (so an alert fires at its first
true evaluation instead of minutes later); their expressions and windows are untouched. Each run has
its own gateway, Prometheus and storage, so the clean run sees nothing of the faulty one."""

import concurrent.futures
import re
import signal
import socket
import subprocess
import time

import httpx2 as httpx
import pytest

from conftest import FAKE_GEMINI_KEY, MASTER_KEY, ROOT, FakeVertex, Gateway, free_port, service_account_key
from otlp_receiver import OTLPReceiver

PROMETHEUS = "/usr/bin/prometheus"
RULES = ROOT / "dashboards" / "alerts.yml"
DEADLINE_SECONDS = 40


VERTEX_PROJECT = "alerts-project"


@pytest.fixture(scope="module")
def vertex(tmp_path_factory):
    """The fake Vertex AI, trusting one service account key and not another (as a deleted key is not)."""
    account = "alerts@alerts-project.iam.gserviceaccount.com"
    fake = FakeVertex(
        tmp_path_factory.mktemp("alerts-vertex"),
        VERTEX_PROJECT,
        trusted={"good": service_account_key(VERTEX_PROJECT, account)},
        untrusted={"deleted": service_account_key(VERTEX_PROJECT, account)},
    )
    yield fake
    fake.stop()


def config_text(fake_gemini, vertex, key):
    """Six model groups on the fake Gemini, the fake Vertex AI and the mock:
    - flaky answers 429 with RetryInfo (7 s), which cools its deployment, and falls back to steady;
    - doomed, two deployments, answers the same with no fallback: once both cool, its clients get errors;
    - bumpy answers 503, which is retried and never cools it (allowed_fails is high);
    - g3 is a Gemini 3 model, whose tool loops need thought signatures;
    - vx is Gemini on Vertex AI with the service account key `key` (`good` or `deleted`).
    429s are not retried (a retry would wait out the RetryInfo), so no request waits."""
    gemini = f'api_key: {FAKE_GEMINI_KEY}, api_base: "{fake_gemini}/v1beta"'
    return f"""
model_list:
  - model_name: flaky
    litellm_params: {{model: gemini/gemini-2.5-flash, {gemini}}}
  - model_name: doomed
    litellm_params: {{model: gemini/gemini-2.5-flash, {gemini}}}
  - model_name: doomed
    litellm_params: {{model: gemini/gemini-2.5-flash, {gemini}}}
  - model_name: bumpy
    litellm_params: {{model: gemini/gemini-2.5-flash, {gemini}}}
  - model_name: g3
    litellm_params: {{model: gemini/gemini-3-flash-preview, {gemini}}}
  - model_name: steady
    litellm_params: {{model: mock/echo}}
  - model_name: vx
    litellm_params: {{model: vertex_ai/gemini-2.5-flash, vertex_credentials: "{vertex.keys[key]}", api_base: "{vertex.url}"}}
router_settings:
  num_retries: 2
  retry_policy: {{RateLimitErrorRetries: 0}}
  allowed_fails: 1000
  fallbacks:
    - flaky: [steady]
general_settings:
  master_key: {MASTER_KEY}
"""


GROUPS = ["flaky", "doomed", "bumpy", "g3", "steady", "vx"]


class Prometheus:
    """Prometheus on loopback scraping one target every second, evaluating `rules` every second."""

    def __init__(self, target_port, rules_text, directory):
        (directory / "alerts.yml").write_text(rules_text)
        (directory / "prometheus.yml").write_text(
            f"""
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [alerts.yml]
scrape_configs:
  - job_name: switchboard
    static_configs:
      - targets: ["127.0.0.1:{target_port}"]
"""
        )
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={directory / 'prometheus.yml'}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(directory / "prometheus.log", "w"),
        )
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, (directory / "prometheus.log").read_text()
            try:
                if httpx.get(self.url + "/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "Prometheus did not become ready"
            time.sleep(0.1)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)

    def api(self, path, **params):
        response = httpx.get(self.url + "/api/v1/" + path, params=params, timeout=10).json()
        assert response["status"] == "success", (path, params, response)
        return response["data"]

    def query(self, promql):
        return self.api("query", query=promql)["result"]

    def wait_for_first_scrape(self):
        """Prometheus starts scraping a few seconds after it is ready; a counter's growth before its
        first sample is invisible to increase(), so traffic waits for it."""
        deadline = time.monotonic() + 15
        while not self.query('up{job="switchboard"} == 1'):
            assert time.monotonic() < deadline, "Prometheus did not scrape the gateway"
            time.sleep(0.2)

    def growth(self, selector, by):
        """Per value of the label `by`, how much the counters of `selector` grew across the samples
        Prometheus holds: what a rule's increase() settles to once its extrapolation is over."""
        promql = f"sum by ({by}) (max_over_time({selector}[10m]) - min_over_time({selector}[10m]))"
        return {row["metric"].get(by, ""): float(row["value"][1]) for row in self.query(promql)}

    def traffic_seen(self):
        """The growth of the counters the ratio alerts divide by, per model group and per provider."""
        return self.growth("switchboard_model_group_requests_total", "model_group") | self.growth(
            'switchboard_requests_total{route=~".*/v1/messages"}', "provider"
        )

    def alerts(self):
        """(alertname, the label that says what it is about, state) of every pending or firing alert."""
        return {
            (alert["labels"]["alertname"], subject(alert["labels"]), alert["state"])
            for alert in self.api("alerts")["alerts"]
        }

    def evaluations(self):
        """How many times Prometheus has evaluated the rules (from its own /metrics)."""
        text = httpx.get(self.url + "/metrics", timeout=10).text
        match = re.search(r"^prometheus_rule_group_iterations_total\{[^}]*\} (\S+)$", text, re.MULTILINE)
        return float(match.group(1)) if match else 0.0

    def wait_for_evaluations(self, count):
        """Returns once the rules have been evaluated `count` more times, each on fresher samples."""
        target = self.evaluations() + count
        deadline = time.monotonic() + 10 + count
        while self.evaluations() < target:
            assert time.monotonic() < deadline, "Prometheus stopped evaluating the rules"
            time.sleep(0.2)


def subject(labels):
    for name in ("model_group", "provider", "route", "source"):
        if name in labels:
            return labels[name]
    return ""


def immediate_rules():
    """alerts.yml with every `for:` set to 0s, and nothing else changed."""
    text = RULES.read_text()
    immediate, count = re.subn(r"(?m)^(\s+)for: \S+$", r"\1for: 0s", text)
    assert count == len(re.findall(r"(?m)^\s+for:", text)) > 0
    return immediate


def post(gateway, model, messages, tools=None):
    body = {"model": model, "max_tokens": 32, "messages": messages}
    if tools:
        body["tools"] = tools
    response = httpx.post(gateway.url + "/v1/messages", headers={"x-api-key": MASTER_KEY}, json=body, timeout=30)
    return response.status_code, response.json()


def ask(gateway, model, prompt):
    return post(gateway, model, [{"role": "user", "content": prompt}])[0]


READ_TOOL = [{"name": "Read", "input_schema": {"type": "object", "properties": {"p": {"type": "string"}}}}]


def unsigned_tool_loop(gateway):
    """A tool result for a call Switchboard never saw (its id is unknown), so the Gemini 3 request
    needs the dummy thought signature."""
    messages = [
        {"role": "user", "content": "read x"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_unseen", "name": "Read", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_unseen", "content": "x's text"}]},
    ]
    return post(gateway, "g3", messages, READ_TOOL)[0]


def signed_tool_loop(gateway):
    """A tool call from Gemini 3 through Switchboard and its result: the signature is known."""
    messages = [{"role": "user", "content": 'fake:call Read {"p":"x"}'}]
    status, answer = post(gateway, "g3", messages, READ_TOOL)
    assert status == 200, answer
    call = next(block for block in answer["content"] if block["type"] == "tool_use")
    messages += [
        {"role": "assistant", "content": answer["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "x's text"}]},
    ]
    return post(gateway, "g3", messages, READ_TOOL)[0]


def run_round(pool, calls, statuses):
    """Runs every (group, call) at once; appends each answer's status to statuses[group]."""
    for group, status in pool.map(lambda call: (call[0], call[1]()), calls):
        statuses.setdefault(group, []).append(status)


EXPECTED_UNDER_FAULTS = {
    ("SwitchboardModelGroupErrorRatioHigh", "doomed"),
    ("SwitchboardModelGroupErrorRatioHigh", "bumpy"),
    ("SwitchboardModelGroupAllDeploymentsCooling", "flaky"),
    ("SwitchboardModelGroupAllDeploymentsCooling", "doomed"),
    ("SwitchboardModelGroupFallbackRatioHigh", "flaky"),
    ("SwitchboardModelGroupRetryRatioHigh", "bumpy"),
    ("SwitchboardSignatureFallbacksHigh", "gemini"),
    ("SwitchboardMalformedToolCallsHigh", "gemini"),
    ("SwitchboardSpanExportFailing", ""),
    ("SwitchboardSpansDropped", ""),
    ("SwitchboardConfigReloadFailed", ""),
    ("SwitchboardGoogleCredentialsFailing", "vertex_credentials"),
}


@pytest.fixture(scope="module")
def fault_run(fake_gemini, vertex, tmp_path_factory):
    """Faults until every expected alert fires: 429s on flaky and doomed, 503s and malformed calls on
    bumpy, unsigned tool loops on g3, a deleted service account key on vx, a broken configuration
    reloaded, and a collector that accepts
    connections and never answers (exports time out; the small queue overflows)."""
    directory = tmp_path_factory.mktemp("alerts-faults")
    stalled = socket.socket()
    stalled.bind(("127.0.0.1", 0))
    stalled.listen(64)
    gateway = Gateway(
        config_text(fake_gemini, vertex, "deleted"),
        directory,
        env={
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://127.0.0.1:{stalled.getsockname()[1]}/v1/traces",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_BSP_EXPORT_TIMEOUT": "300",
            "OTEL_BSP_MAX_QUEUE_SIZE": "4",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "2",
        },
    )
    prometheus = Prometheus(gateway.port, immediate_rules(), directory)
    config_path = directory / f"config-{gateway.port}.yaml"
    started = time.monotonic()
    try:
        prometheus.wait_for_first_scrape()
        # The reload counter is served at 0 before the refusal, or increase() could not see the refusal.
        assert prometheus.query('switchboard_config_reloads_total{result="failure"} == 0')
        config_path.write_text("model_list:\n  - model_name: broken\n    litellm_params: {model: nowhere/x}\n")
        gateway.process.send_signal(signal.SIGHUP)

        calls = (
            [("flaky", lambda: ask(gateway, "flaky", "fake:error 429"))] * 3
            + [("doomed", lambda: ask(gateway, "doomed", "fake:error 429"))] * 3
            + [("bumpy", lambda: ask(gateway, "bumpy", "fake:error 503"))] * 2
            + [("bumpy", lambda: ask(gateway, "bumpy", "fake:malformed"))] * 2
            + [("g3", lambda: unsigned_tool_loop(gateway)), ("g3", lambda: ask(gateway, "g3", "hello"))] * 2
            + [("vx", lambda: ask(gateway, "vx", "hello"))]
        )
        statuses = {}
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            while True:
                run_round(pool, calls, statuses)
                firing = {(name, about) for name, about, state in prometheus.alerts() if state == "firing"}
                # Past the rules' minimum of 10 requests with a margin, so that the ratios stay computed.
                seen = prometheus.traffic_seen()
                enough = all(seen.get(subject, 0) >= 15 for subject in ("flaky", "doomed", "bumpy", "gemini"))
                if (enough and EXPECTED_UNDER_FAULTS <= firing) or time.monotonic() - started > DEADLINE_SECONDS:
                    break
        # Whatever else would fire on this data has had its chance.
        prometheus.wait_for_evaluations(3)
        states = prometheus.query("switchboard_deployment_state == 1")
        fallbacks = prometheus.query("switchboard_fallbacks_total")
        yield {
            "alerts": prometheus.alerts(),
            "statuses": statuses,
            "seconds": time.monotonic() - started,
            "series": {row["metric"]["__name__"] for row in prometheus.query('count by (__name__) ({__name__=~".+"})')},
            "states": {row["metric"]["deployment"]: row["metric"]["state"] for row in states},
            "fallbacks": {(row["metric"]["from"], row["metric"]["to"]) for row in fallbacks},
        }
    finally:
        prometheus.stop()
        gateway.stop()
        stalled.close()


@pytest.fixture(scope="module")
def clean_run(fake_gemini, vertex, tmp_path_factory):
    """The same groups with plain prompts, signed tool loops, a valid configuration reloaded, and a
    collector that works, until every group has the traffic its ratios need."""
    directory = tmp_path_factory.mktemp("alerts-clean")
    receiver = OTLPReceiver()
    text = config_text(fake_gemini, vertex, "good")
    gateway = Gateway(
        text, directory, env={"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    )
    prometheus = Prometheus(gateway.port, immediate_rules(), directory)
    started = time.monotonic()
    try:
        prometheus.wait_for_first_scrape()
        (directory / f"config-{gateway.port}.yaml").write_text(text + "\n# reloaded\n")
        gateway.process.send_signal(signal.SIGHUP)
        calls = [(group, lambda group=group: ask(gateway, group, "hello")) for group in GROUPS for _ in range(3)]
        calls += [("g3", lambda: signed_tool_loop(gateway))]
        statuses = {}
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            while True:
                run_round(pool, calls, statuses)
                seen = prometheus.traffic_seen()
                enough = all(seen.get(subject, 0) >= 15 for subject in GROUPS + ["gemini"])
                if enough or time.monotonic() - started > DEADLINE_SECONDS:
                    break
        prometheus.wait_for_evaluations(3)
        yield {
            "alerts": prometheus.alerts(),
            "statuses": statuses,
            "seen": prometheus.traffic_seen(),
            "seconds": time.monotonic() - started,
            "reloads": prometheus.query('switchboard_config_reloads_total{result="success"}'),
            "exported": prometheus.query("switchboard_spans_exported_total > 0"),
        }
    finally:
        prometheus.stop()
        gateway.stop()
        receiver.stop()


def test_faults_fire_exactly_the_alerts_that_describe_them(fault_run):
    firing = {(name, about) for name, about, state in fault_run["alerts"] if state == "firing"}
    assert firing == EXPECTED_UNDER_FAULTS, (
        f"missing {EXPECTED_UNDER_FAULTS - firing}, unexpected {firing - EXPECTED_UNDER_FAULTS}"
        f" after {fault_run['seconds']:.1f} s"
    )
    assert fault_run["seconds"] < DEADLINE_SECONDS


def test_faults_were_absorbed_where_a_fallback_exists(fault_run):
    """What the alerts describe is what the clients saw: flaky's requests were all answered by its
    fallback; doomed's and bumpy's failed; g3's succeeded, dummy signatures and all."""
    statuses = fault_run["statuses"]
    assert set(statuses["flaky"]) == {200} and fault_run["fallbacks"] == {("flaky", "steady")}
    assert all(status == 429 or status >= 500 for status in statuses["doomed"] + statuses["bumpy"]), statuses
    assert set(statuses["g3"]) == {200}
    assert set(statuses["vx"]) == {401}
    states = fault_run["states"]
    assert {states["flaky#1"], states["doomed#1"], states["doomed#2"]} <= {"cooling", "half_open"}, states
    assert {states["bumpy#1"], states["g3#1"], states["steady#1"]} == {"healthy"}, states


def test_every_metric_the_rules_read_is_served(fault_run):
    """Each name in an expression is a series Prometheus scraped during the faults: a misnamed or
    missing metric would leave its alert silent for ever."""
    names = set(re.findall(r"\b(switchboard_[a-z_]+|up)\b", RULES.read_text()))
    # Served only by replicas on PostgreSQL: test_replicas.py has Prometheus scrape it from three.
    names -= {"switchboard_store_up"}
    # A histogram's name in a description stands for its _bucket, _count and _sum series.
    served = fault_run["series"] | {name.removesuffix("_count") for name in fault_run["series"]}
    assert names - served == set()


def test_clean_traffic_fires_nothing(clean_run):
    # Enough requests for every ratio rule to be computed: silence is the ratios', not the minimum's.
    assert all(clean_run["seen"].get(subject, 0) >= 10 for subject in GROUPS + ["gemini"]), clean_run["seen"]
    assert {status for group in clean_run["statuses"].values() for status in group} == {200}
    assert clean_run["alerts"] == set()
    assert clean_run["reloads"] and float(clean_run["reloads"][0]["value"][1]) >= 1
    assert clean_run["exported"], "no span was exported, so the span alerts were not exercised"
    assert clean_run["seconds"] < DEADLINE_SECONDS
