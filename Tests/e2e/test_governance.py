"""Governance through `switchboard serve` and real clients: a key's life with LiteLLM's JSON, the spend report
against the costs the answers imply, budgets that reset on schedule, the gateway budget, `kill -9` under load,
the `switchboard keys|teams` command line, and the real Claude Code CLI stopping on its key's budget."""

import hashlib
import json
import signal
import subprocess
import threading
import time
import uuid

import anthropic
import httpx2 as httpx
import pytest

from conftest import BIN_DIR, MASTER_KEY, Gateway
from test_claude_code import run_claude

# The mock, priced: a budget can be spent without a provider.
INPUT_PRICE, OUTPUT_PRICE = 0.001, 0.002
CONFIG = """
model_list:
  - {{model_name: "claude-*", litellm_params: {{model: mock/echo, input_cost_per_token: 0.001, output_cost_per_token: 0.002}}}}
{extra}
general_settings:
  master_key: {master}
  database_url: "{url}"
"""


def start(tmp_path, extra: str = "", url: str | None = None) -> Gateway:
    url = url or f"sqlite://{tmp_path / 'switchboard.db'}"
    return Gateway(CONFIG.format(master=MASTER_KEY, url=url, extra=extra), tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The same admin API and accounting on either store: the SQLite file, or a database on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'switchboard.db'}"
    return request.getfixturevalue("postgres").create_database("g_" + uuid.uuid4().hex[:12])


def admin(gateway, method: str, path: str, body: dict | None = None, key: str = MASTER_KEY):
    response = httpx.request(method, gateway.url + path, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    return response.status_code, response.json()


def cost(message) -> float:
    return message.usage.input_tokens * INPUT_PRICE + message.usage.output_tokens * OUTPUT_PRICE


def ask(client, text="hi", model="claude-sonnet-4-6"):
    return client.messages.create(model=model, max_tokens=32, messages=[{"role": "user", "content": text}])


def test_a_keys_life_and_the_spend_report_match_the_answers(tmp_path, database_url):
    gateway = start(tmp_path, url=database_url)
    try:
        status, team = admin(gateway, "POST", "/team/new", {"team_alias": "platform", "max_budget": 100, "rpm_limit": 50})
        assert status == 200, team
        status, made = admin(gateway, "POST", "/key/generate", {
            "key_alias": "alice", "team_id": team["team_id"], "user_id": "alice@example.com", "models": ["claude-*"],
            "max_budget": 10, "budget_duration": "30d", "metadata": {"laptop": "mbp-7"}})
        assert status == 200, made
        client = anthropic.Anthropic(base_url=gateway.url, api_key=made["key"], max_retries=0)
        spent = sum(cost(ask(client, f"question {index}")) for index in range(3))

        # The key reads its own record, not the others'.
        status, own = admin(gateway, "GET", "/key/info", key=made["key"])
        assert status == 200 and own["info"]["key_alias"] == "alice" and own["info"]["spend"] == pytest.approx(spent)
        status, _ = admin(gateway, "GET", "/key/list", key=made["key"])
        assert status == 403

        status, logs = admin(gateway, "GET", f"/spend/logs?api_key={made['key']}")
        assert len(logs) == 3 and sum(row["spend"] for row in logs) == pytest.approx(spent, rel=1e-12)
        status, report = admin(gateway, "GET", "/global/spend/report?group_by=team")
        platform = next(entry for day in report for entry in day["teams"] if entry["team_name"] == "platform")
        assert platform["total_spend"] == pytest.approx(spent, rel=1e-12)
        status, by_key = admin(gateway, "GET", "/global/spend/report?group_by=api_key")
        assert next(entry for entry in by_key if entry["key_alias"] == "alice")["total_cost"] == pytest.approx(spent, rel=1e-12)
        metrics = httpx.get(gateway.url + "/metrics").text
        line = next(line for line in metrics.splitlines() if line.startswith("switchboard_spend_usd_total{") and 'key_alias="alice"' in line)
        assert float(line.split()[-1]) == pytest.approx(spent, rel=1e-12)
        remaining = next(line for line in metrics.splitlines()
                         if line.startswith('switchboard_budget_remaining_usd{scope="key",name="alice"}'))
        assert float(remaining.split()[-1]) == pytest.approx(10 - spent, rel=1e-9)

        # Update, block, unblock, regenerate: LiteLLM's bodies.
        status, updated = admin(gateway, "POST", "/key/update", {"key": made["key"], "rpm_limit": 5, "max_budget": 20})
        assert status == 200 and updated["rpm_limit"] == 5 and updated["spend"] == pytest.approx(spent)
        admin(gateway, "POST", "/key/block", {"key": made["key"]})
        with pytest.raises(anthropic.AuthenticationError, match="blocked"):
            ask(client)
        admin(gateway, "POST", "/key/unblock", {"key": made["key"]})
        ask(client)
        status, fresh = admin(gateway, "POST", f"/key/{made['key']}/regenerate")
        assert status == 200 and fresh["key"] != made["key"] and fresh["key_alias"] == "alice"
        with pytest.raises(anthropic.AuthenticationError):
            ask(client)
        ask(anthropic.Anthropic(base_url=gateway.url, api_key=fresh["key"], max_retries=0))
        status, answer = admin(gateway, "POST", "/key/update", {"key": fresh["key"], "budget_duration": "fortnight"})
        assert status == 400 and "budget_duration" in answer["error"]["message"]
    finally:
        assert gateway.stop() == 0


def test_a_budget_starts_again_when_its_period_ends(tmp_path, database_url):
    gateway = start(tmp_path, url=database_url)
    try:
        status, made = admin(gateway, "POST", "/key/generate", {"key_alias": "short", "max_budget": 0.0001, "budget_duration": "3s"})
        client = anthropic.Anthropic(base_url=gateway.url, api_key=made["key"], max_retries=0)
        ask(client)
        with pytest.raises(anthropic.RateLimitError) as spent:
            ask(client)
        assert "budget exceeded" in spent.value.message and "it resets at" in spent.value.message
        time.sleep(3.2)
        assert ask(client).content, "the period ended: spend starts again from 0"
    finally:
        gateway.stop()


def test_the_gateway_budget_binds_every_key_and_the_master_key(tmp_path, database_url):
    gateway = start(tmp_path, "litellm_settings: {max_budget: 0.0001, budget_duration: 1d}", url=database_url)
    try:
        ask(anthropic.Anthropic(base_url=gateway.url, api_key=MASTER_KEY, max_retries=0))
        status, made = admin(gateway, "POST", "/key/generate", {"key_alias": "roomy", "max_budget": 100})
        assert status == 200, "administration goes on"
        for key in (made["key"], MASTER_KEY):
            with pytest.raises(anthropic.RateLimitError, match="the gateway has spent"):
                ask(anthropic.Anthropic(base_url=gateway.url, api_key=key, max_retries=0))
    finally:
        gateway.stop()


def test_kill_9_under_load_keeps_spend_equal_to_the_log_and_loses_at_most_the_last_batch(tmp_path):
    gateway = start(tmp_path)
    status, made = admin(gateway, "POST", "/key/generate", {"key_alias": "load", "max_budget": 1000})
    status, team = admin(gateway, "POST", "/team/new", {"team_id": "survivors"})
    finished: list[tuple[float, str]] = []  # (monotonic time the answer was complete, request id)
    stop = threading.Event()

    def load():
        with httpx.Client(base_url=gateway.url, headers={"x-api-key": made["key"]}, timeout=5) as client:
            while not stop.is_set():
                try:
                    response = client.post("/v1/messages", json={"model": "claude-x", "max_tokens": 16,
                                                                 "messages": [{"role": "user", "content": "load"}]})
                except httpx.HTTPError:
                    return
                if response.status_code == 200:
                    finished.append((time.monotonic(), response.headers["request-id"]))

    workers = [threading.Thread(target=load) for _ in range(4)]
    for worker in workers:
        worker.start()
    time.sleep(2)
    killed_at = time.monotonic()
    gateway.process.send_signal(signal.SIGKILL)
    gateway.process.wait(10)
    stop.set()
    for worker in workers:
        worker.join(10)
    assert len(finished) > 100, "under load"

    gateway = start(tmp_path)
    try:
        status, info = admin(gateway, "GET", f"/key/info?key={made['key']}")
        assert status == 200 and info["info"]["key_alias"] == "load"
        status, team_info = admin(gateway, "GET", "/team/info?team_id=survivors")
        assert status == 200, "keys and teams intact"
        status, rows = admin(gateway, "GET", f"/spend/logs?api_key={made['key']}&limit=10000")
        logged = {row["request_id"] for row in rows}
        # Spend and the log are written in one transaction: they agree exactly.
        assert info["info"]["spend"] == pytest.approx(sum(row["spend"] for row in rows), rel=1e-9)
        lost = [(killed_at - at) for at, request_id in finished if request_id not in logged]
        print(f"kill -9 after {len(finished)} answered requests: {len(lost)} not in the log, "
              f"finished at most {max(lost, default=0) * 1000:.0f} ms before the kill")
        # The flush runs every 100 ms; anything answered longer ago than that (plus scheduling slack) is in.
        assert all(age < 0.35 for age in lost), sorted(lost)[-5:]
    finally:
        gateway.stop()


def cli(*args, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN_DIR / "switchboard"), *args], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin"})


def test_the_command_line_against_a_gateway_and_against_its_database(tmp_path):
    gateway = start(tmp_path)
    at = ["--gateway", gateway.url, "--master-key", MASTER_KEY]
    try:
        made = cli("teams", "create", "--id", "platform", "--alias", "Platform", "--max-budget", "50", *at, tmp_path=tmp_path)
        assert made.returncode == 0, made.stderr
        assert made.stdout.splitlines()[0].split()[:2] == ["TEAM_ID", "TEAM_ALIAS"] and "platform" in made.stdout
        created = cli("keys", "create", "--alias", "dev-1", "--team", "platform", "--max-budget", "5", "--rpm", "30", *at,
                      tmp_path=tmp_path)
        assert created.returncode == 0, created.stderr
        key = created.stdout.splitlines()[1].split()[0]
        assert key.startswith("sk-")
        assert ask(anthropic.Anthropic(base_url=gateway.url, api_key=key, max_retries=0)).content
        listed = cli("keys", "list", *at, tmp_path=tmp_path)
        assert "dev-1" in listed.stdout and "platform" in listed.stdout
        updated = cli("keys", "update", key, "--rpm", "60", "--block", *at, "--json", tmp_path=tmp_path)
        assert json.loads(updated.stdout)["rpm_limit"] == 60 and json.loads(updated.stdout)["blocked"] is True
        refused = cli("keys", "create", "--budget-duration", "fortnight", *at, tmp_path=tmp_path)
        assert refused.returncode != 0 and "budget_duration" in refused.stderr
        info = cli("teams", "info", "platform", *at, tmp_path=tmp_path)
        assert info.stdout.splitlines()[1].split()[-1] == "1", info.stdout
    finally:
        assert gateway.stop() == 0

    # No gateway runs: the same commands work on the file.
    offline = ["--gateway", gateway.url, "--database", str(tmp_path / "switchboard.db")]
    revoked = cli("keys", "revoke", key, *offline, tmp_path=tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    listed = cli("keys", "list", *offline, "--json", tmp_path=tmp_path)
    assert json.loads(listed.stdout)["keys"] == []
    teams = cli("teams", "list", *offline, tmp_path=tmp_path)
    assert "Platform" in teams.stdout


def test_claude_code_on_a_virtual_key_stops_with_the_budget_message(tmp_path):
    gateway = start(tmp_path)
    try:
        status, made = admin(gateway, "POST", "/key/generate", {"key_alias": "claude-dev", "max_budget": 0.0001})
        first = run_claude(gateway, "first question", "--model", "claude-sonnet-4-6", token=made["key"], tmp_path=tmp_path)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "first question" in first.stdout
        second = run_claude(gateway, "second question", "--model", "claude-sonnet-4-6", token=made["key"], tmp_path=tmp_path)
        output = second.stdout + second.stderr
        assert second.returncode != 0, output
        assert "budget exceeded" in output and "claude-dev" in output, output
    finally:
        gateway.stop()


def test_keys_declared_in_the_config_file_follow_it_across_reloads(tmp_path, database_url):
    ana, ci_bot = "sk-declared-ana-0123456789abcdef", "sk-declared-ci-bot-0123456789abcd"
    ci_hash = hashlib.sha256(ci_bot.encode()).hexdigest()
    declared = """
switchboard:
  teams: [{{team_id: platform, max_budget: 200, budget_duration: 1mo}}]
  virtual_keys:
    - {{key: os.environ/ANA_KEY, key_alias: ana, team_id: platform, max_budget: 60}}
{more}"""
    both = declared.format(more=f"    - {{key_hash: {ci_hash}, key_alias: ci-bot, models: [claude-haiku-4-5]}}\n")
    gateway = Gateway(CONFIG.format(master=MASTER_KEY, url=database_url, extra=both), tmp_path, env={"ANA_KEY": ana})
    config = next(tmp_path.glob("config-*.yaml"))
    try:
        assert ask(anthropic.Anthropic(base_url=gateway.url, api_key=ana, max_retries=0)).content
        bot = anthropic.Anthropic(base_url=gateway.url, api_key=ci_bot, max_retries=0)
        assert ask(bot, model="claude-haiku-4-5").content
        with pytest.raises(anthropic.PermissionDeniedError):
            ask(bot)
        status, info = admin(gateway, "GET", "/team/info?team_id=platform")
        assert status == 200 and info["keys"] == [hashlib.sha256(ana.encode()).hexdigest()]

        # The file drops the bot: after the reload its key is refused; ana keeps her spend.
        status, before = admin(gateway, "GET", f"/key/info?key={ana}")
        config.write_text(CONFIG.format(master=MASTER_KEY, url=database_url, extra=declared.format(more="")))
        gateway.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while not any(line.get("message") == "configuration reloaded" for line in gateway.log_lines()):
            assert time.monotonic() < deadline, "no reload"
            time.sleep(0.1)
        with pytest.raises(anthropic.AuthenticationError):
            ask(bot, model="claude-haiku-4-5")
        status, after = admin(gateway, "GET", f"/key/info?key={ana}")
        assert after["info"]["spend"] == pytest.approx(before["info"]["spend"]) and after["info"]["spend"] > 0

        # A key written into the file is refused, and the gateway keeps the configuration in use.
        config.write_text(CONFIG.format(master=MASTER_KEY, url=database_url,
                                        extra="switchboard:\n  virtual_keys: [{key: sk-written-in-the-file}]\n"))
        gateway.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while not any("reload refused" in line.get("message", "") for line in gateway.log_lines()):
            assert time.monotonic() < deadline, "no refusal"
            time.sleep(0.1)
        assert ask(anthropic.Anthropic(base_url=gateway.url, api_key=ana, max_retries=0)).content
    finally:
        assert gateway.stop() == 0
