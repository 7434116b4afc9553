"""Several `switchboard serve` replicas on one PostgreSQL behind nginx round-robin (issue 17): limits exact across
replicas, budgets within the stated bound, key changes everywhere within a second, the declared degraded modes
when PostgreSQL stops, a replica killed mid-load, and Prometheus scraping them all."""

import concurrent.futures
import json
import signal
import subprocess
import threading
import time
import uuid

import httpx2 as httpx
import pytest

from conftest import BIN_DIR, MASTER_KEY, ROOT, free_port
from replicas import Nginx, admin, ask, cost, metric, start_replicas, wait_for_second_of_minute


@pytest.fixture
def database(postgres):
    name = "t_" + uuid.uuid4().hex[:12]
    return name, postgres.create_database(name)


@pytest.fixture
def cluster(database, tmp_path):
    """Three replicas on one database behind nginx; stopped after the test."""
    name, url = database
    replicas = start_replicas(url, tmp_path)
    balancer = Nginx(replicas, tmp_path)
    yield name, replicas, balancer
    balancer.close()
    for replica in replicas:
        stop(replica)


def stop(replica):
    """Stops a replica; one that does not stop within 30 s fails the test, and is killed."""
    try:
        replica.stop()
    except subprocess.TimeoutExpired:
        replica.process.kill()
        raise


def served_by(replicas) -> list[float]:
    """Messages requests each replica answered with 200, from its own /metrics."""
    counts = []
    for replica in replicas:
        text = httpx.get(replica.url + "/metrics", timeout=5).text
        counts.append(sum(float(line.split()[-1]) for line in text.splitlines()
                          if line.startswith("switchboard_requests_total{") and 'status="200"' in line))
    return counts


def test_replicas_started_together_on_a_new_database_agree_on_the_files_keys(database, tmp_path):
    """Three replicas started at once on an empty database: one migrates while the others wait on the advisory
    lock, and the key and team the file declares are made once, not refused as duplicates."""
    _, url = database
    declared = ("  teams: [{team_id: platform, rpm_limit: 100}]\n"
                "  virtual_keys: [{key: os.environ/DEV_KEY, key_alias: dev, team_id: platform}]\n")
    replicas = start_replicas(url, tmp_path, extra=declared, env={"DEV_KEY": "sk-declared-dev-0123456789"})
    try:
        with httpx.Client() as client:
            assert [ask(client, replica.url, "sk-declared-dev-0123456789").status_code for replica in replicas] == [200] * 3
        assert len(admin(replicas[2].url, "GET", "/key/list")["keys"]) == 1
    finally:
        for replica in replicas:
            stop(replica)


def test_rpm_limit_is_exact_across_three_replicas(cluster):
    _, replicas, balancer = cluster
    key = admin(replicas[0].url, "POST", "/key/generate", {"key_alias": "rpm60", "rpm_limit": 60})["key"]
    wait_for_second_of_minute()
    with httpx.Client() as client, concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: ask(client, balancer.url, key).status_code, range(75)))
    assert statuses.count(200) == 60, statuses
    assert statuses.count(429) == 15, statuses
    # nginx spread the admitted requests over all three.
    assert all(count > 0 for count in served_by(replicas))


def test_parallel_limit_holds_across_replicas(cluster):
    _, replicas, balancer = cluster
    key = admin(replicas[0].url, "POST", "/key/generate", {"key_alias": "four", "max_parallel_requests": 4})["key"]
    barrier = threading.Barrier(12)

    def one(_):
        with httpx.Client() as client:
            barrier.wait()
            return ask(client, balancer.url, key, model="slow")

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(one, range(12)))
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == 4, statuses
    assert statuses.count(429) == 8, statuses
    assert all("max_parallel_requests" in answer.json()["error"]["message"] for answer in answers if answer.status_code == 429)
    # The slots are freed: four more fit.
    with concurrent.futures.ThreadPoolExecutor(4) as pool, httpx.Client() as client:
        assert [answer.status_code for answer in pool.map(lambda _: ask(client, balancer.url, key, model="slow"), range(4))] == [200] * 4


def test_budget_stops_spending_within_the_stated_bound(cluster, postgres):
    """Spending paced over many synchronization rounds, so that the bound tells shared totals from each
    replica counting alone: alone, each would let the key spend its whole budget, three budgets in all."""
    name, replicas, balancer = cluster
    budget = 3.0
    key = admin(replicas[0].url, "POST", "/key/generate", {"key_alias": "budget", "max_budget": budget})["key"]
    threads = 6
    seen = []
    lock = threading.Lock()
    started = time.monotonic()

    def spend(_):
        with httpx.Client() as client:
            while True:
                answer = ask(client, balancer.url, key, text="spend " * 20)
                if answer.status_code != 200:
                    assert answer.status_code == 429 and "budget exceeded" in answer.text, answer.text
                    return
                with lock:
                    seen.append(cost(answer))
                time.sleep(0.1)

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(spend, range(threads)))
    elapsed = time.monotonic() - started
    time.sleep(0.5)
    spent = float(postgres.sql(name, "SELECT spend FROM keys WHERE key_alias = 'budget'")[0][0])
    assert spent == pytest.approx(sum(seen), rel=1e-9), "every cost the clients saw is in the store, once"
    # The bound (docs/deployment.md): what is in flight when the budget is reached, plus what all replicas
    # together spend before each sees the others' spend: one write and one read round of 100 ms each, and the
    # round trips (0.3 s in all on this debug build), at the rate they were spending.
    per_request = max(seen)
    rate = len(seen) / elapsed
    bound = threads * per_request + 0.3 * rate * per_request
    overshoot = spent - budget
    print(f"budget {budget}: spent {spent:.4f}, overshoot {overshoot:.4f}, bound {bound:.4f}, {len(seen)} requests at {rate:.0f}/s")
    assert bound < budget, "the pace leaves room to tell shared totals from replicas counting alone"
    assert 0 <= overshoot <= bound


def test_a_revoked_key_is_refused_on_every_replica_within_a_second(cluster):
    _, replicas, _ = cluster
    made = admin(replicas[0].url, "POST", "/key/generate", {"key_alias": "revoked"})
    with httpx.Client() as client:
        for replica in replicas:
            assert ask(client, replica.url, made["key"]).status_code == 200
        admin(replicas[0].url, "POST", "/key/block", {"key": made["key"]})
        blocked_at = time.monotonic()
        delays = []
        for replica in replicas[1:]:
            while ask(client, replica.url, made["key"]).status_code != 401:
                assert time.monotonic() - blocked_at < 1.0, f"{replica.url} still accepts a blocked key"
                time.sleep(0.01)
            delays.append(time.monotonic() - blocked_at)
        # An update too: a new rpm_limit of 1 on another replica's admin API.
        admin(replicas[1].url, "POST", "/key/unblock", {"key": made["key"]})
        unblocked_at = time.monotonic()
        while ask(client, replicas[2].url, made["key"]).status_code != 200:
            assert time.monotonic() - unblocked_at < 1.0
            time.sleep(0.01)
    print(f"block seen by the other replicas after {[round(delay * 1000) for delay in delays]} ms")


def test_tpm_limit_reserves_and_settles_across_replicas(cluster):
    """tpm_limit counted in the database: each request reserves its estimated input and settles to what it used;
    once the minute's tokens reach the limit the next request is refused, on whichever replica it lands."""
    _, replicas, balancer = cluster
    key = admin(replicas[0].url, "POST", "/key/generate", {"key_alias": "tpm", "tpm_limit": 300})["key"]
    wait_for_second_of_minute()
    used, statuses = 0, []
    with httpx.Client() as client:
        for _ in range(20):
            answer = ask(client, balancer.url, key, text="count these words " * 5)
            statuses.append(answer.status_code)
            if answer.status_code != 200:
                assert answer.status_code == 429 and "tpm_limit of 300" in answer.json()["error"]["message"]
                break
            usage = answer.json()["usage"]
            used += usage["input_tokens"] + usage["output_tokens"]
    assert statuses[-1] == 429, statuses
    # Refused once the minute's tokens reached the limit (counting a request whose settlement may still be on
    # its way at its reservation, about 70 tokens here), and not a request later than that.
    assert used >= 300 - 100, (used, statuses)
    assert used - (usage["input_tokens"] + usage["output_tokens"]) < 300, (used, statuses)


def test_the_command_line_changes_a_shared_database_that_every_replica_follows(cluster, database, tmp_path):
    """`switchboard keys` on the PostgreSQL URL with no gateway in between: the running replicas hear of the new
    key and of its revocation."""
    _, replicas, _ = cluster
    _, url = database
    switchboard = [str(BIN_DIR / "switchboard"), "keys"]
    offline = ["--gateway", "http://127.0.0.1:9", "--database", url, "--json"]
    made = subprocess.run(switchboard + ["create", "--alias", "from-cli", *offline], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["key"]
    with httpx.Client() as client:
        deadline = time.monotonic() + 1
        for replica in replicas:
            while ask(client, replica.url, key).status_code != 200:
                assert time.monotonic() < deadline, "a replica did not see the key made on the command line"
                time.sleep(0.01)
        revoked = subprocess.run(switchboard + ["revoke", key, *offline], capture_output=True, text=True, timeout=60)
        assert revoked.returncode == 0, revoked.stderr
        deadline = time.monotonic() + 1
        for replica in replicas:
            while ask(client, replica.url, key).status_code != 401:
                assert time.monotonic() < deadline, "a replica still accepts a key revoked on the command line"
                time.sleep(0.01)


class Load:
    """Requests on `key` through `url` from a few threads until stopped; records each answer's status, cost and
    time taken."""

    def __init__(self, url: str, key: str, threads: int = 4):
        self.url, self.key = url, key
        self.results: list[tuple[int, float, float]] = []
        self.running = True
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def run(self):
        with httpx.Client() as client:
            while self.running:
                started = time.monotonic()
                try:
                    answer = ask(client, self.url, self.key)
                    result = (answer.status_code, cost(answer) if answer.status_code == 200 else 0.0, time.monotonic() - started)
                except httpx.HTTPError:
                    result = (0, 0.0, time.monotonic() - started)
                with self.lock:
                    self.results.append(result)
                time.sleep(0.01)

    def stop(self):
        self.running = False
        for thread in self.threads:
            thread.join(timeout=60)


def test_local_mode_serves_through_a_postgres_outage_and_writes_the_spend_once(cluster, postgres):
    name, replicas, balancer = cluster
    key = admin(replicas[0].url, "POST", "/key/generate", {"key_alias": "outage", "rpm_limit": 100_000})["key"]
    load = Load(balancer.url, key)
    try:
        time.sleep(1)
        postgres.stop()
        try:
            time.sleep(1.5)
            assert [metric(replica.url, "switchboard_store_up") for replica in replicas] == [0, 0, 0]
            during = len(load.results)
            time.sleep(1.5)
            assert len(load.results) > during, "requests are still served"
        finally:
            postgres.start()
        # Back within seconds, whatever the pool's reconnection backoff had grown to (it probes on a connection
        # of its own, then renews the pool): 0.3-0.8 s on a quiet machine, up to 4 s while CI builds beside it.
        deadline = time.monotonic() + 6
        while [metric(replica.url, "switchboard_store_up") for replica in replicas] != [1, 1, 1]:
            assert time.monotonic() < deadline, "the replicas did not reconnect"
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        load.stop()
    time.sleep(0.5)
    statuses = [status for status, _, _ in load.results]
    assert set(statuses) == {200}, statuses
    assert max(seconds for _, _, seconds in load.results) < 3, "no request waited on the dead database for long"
    assert all(metric(replica.url, "switchboard_store_degraded_seconds_total") > 1 for replica in replicas)
    for replica in replicas:
        messages = [line.get("message") for line in replica.log_lines()]
        assert "shared store unreachable: entering degraded mode" in messages
        assert "shared store reachable again: leaving degraded mode" in messages
    spent = sum(value for _, value, _ in load.results)
    [[key_spend, rows, row_spend]] = postgres.sql(
        name, "SELECT (SELECT spend FROM keys WHERE key_alias = 'outage'), COUNT(*), COALESCE(SUM(spend), 0) FROM spend_logs")
    assert int(rows) == len(load.results)
    assert float(key_spend) == pytest.approx(spent, rel=1e-9)
    assert float(row_spend) == pytest.approx(spent, rel=1e-9)


@pytest.mark.parametrize("policy", ["fail_closed", "fail_open"])
def test_fail_closed_and_fail_open_do_what_they_say(policy, database, postgres, tmp_path):
    _, url = database
    [replica] = start_replicas(url, tmp_path, count=1, policy=policy)
    try:
        key = admin(replica.url, "POST", "/key/generate", {"key_alias": policy, "rpm_limit": 2})["key"]
        with httpx.Client() as client:
            assert ask(client, replica.url, key).status_code == 200
            postgres.stop()
            try:
                started = time.monotonic()
                statuses = [ask(client, replica.url, key).status_code for _ in range(4)]
                assert time.monotonic() - started < 4
                # The master key has no rate limits to enforce: served in every mode.
                assert ask(client, replica.url, MASTER_KEY).status_code == 200
            finally:
                postgres.start()
        if policy == "fail_closed":
            assert statuses == [503] * 4
        else:
            assert statuses == [200] * 4, "fail_open enforces no rate limit while the store is down"
    finally:
        stop(replica)


def test_a_replica_killed_mid_load_leaves_the_others_serving_and_no_spend_twice(cluster, postgres):
    name, replicas, balancer = cluster
    key = admin(replicas[0].url, "POST", "/key/generate", {"key_alias": "killed"})["key"]
    load = Load(balancer.url, key)
    try:
        time.sleep(1)
        replicas[1].process.send_signal(signal.SIGKILL)
        replicas[1].process.wait(timeout=10)
        killed_at = len(load.results)
        time.sleep(2)
    finally:
        load.stop()
    after = [status for status, _, _ in load.results[killed_at + 8:]]
    assert after and set(after) == {200}, "the two others serve everything once nginx has seen the dead one"
    time.sleep(0.5)
    [[row_spend, key_spend]] = postgres.sql(
        name, "SELECT SUM(spend), (SELECT spend FROM keys WHERE key_alias = 'killed') FROM spend_logs")
    # A batch written twice would add its spend to the key twice, its rows once (request ids are unique).
    assert float(row_spend) == pytest.approx(float(key_spend), rel=1e-9), "the key's spend counts each written row once"
    served = sum(value for _, value, _ in load.results)
    assert float(key_spend) <= served + 1e-9, "nothing is counted that no client was served"


def test_prometheus_scrapes_three_replicas_and_the_dashboard_aggregates_them(cluster, tmp_path):
    _, replicas, balancer = cluster
    key = admin(replicas[0].url, "POST", "/key/generate", {"key_alias": "scraped"})["key"]
    port = free_port()
    config = tmp_path / "prometheus.yml"
    targets = ", ".join(f'"127.0.0.1:{replica.port}"' for replica in replicas)
    config.write_text(f"""
global: {{scrape_interval: 1s, scrape_timeout: 1s}}
scrape_configs:
  - job_name: switchboard
    static_configs: [{{targets: [{targets}]}}]
""")
    prometheus = subprocess.Popen(
        ["/usr/bin/prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'prometheus'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client() as client:
            for _ in range(3):
                for _ in range(9):
                    ask(client, balancer.url, key)
                ask(client, balancer.url, "sk-wrong")
                time.sleep(1.2)

        def query(expr):
            response = httpx.get(url + "/api/v1/query", params={"query": expr}, timeout=10).json()
            assert response["status"] == "success", (expr, response)
            return response["data"]["result"]

        deadline = time.monotonic() + 20
        while True:
            result = query("count(switchboard_instance_info)")
            if result and float(result[0]["value"][1]) == 3:
                break
            assert time.monotonic() < deadline, result
            time.sleep(0.5)
        dashboard = json.loads((ROOT / "dashboards" / "switchboard.json").read_text())
        per_instance = []
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                for series in query(target["expr"].replace("$__rate_interval", "1m")):
                    if "instance" in series["metric"] or "instance_id" in series["metric"]:
                        per_instance.append((panel["title"], target["expr"], series["metric"]))
        assert not per_instance, "panels must aggregate over replicas: " + repr(per_instance[:5])
        # The degraded-store alert reads a series every replica serves; all three answer, so it is silent.
        assert len(query("switchboard_store_up == 1")) == 3
        rules = (ROOT / "dashboards" / "alerts.yml").read_text()
        assert "max_over_time(switchboard_store_up[1m]) == 0" in rules
        assert query("max_over_time(switchboard_store_up[1m]) == 0") == []
        total = query('sum(switchboard_requests_total{route="/v1/messages",status="200"})')
        assert float(total[0]["value"][1]) >= 27
    finally:
        prometheus.terminate()
        prometheus.wait(timeout=20)
