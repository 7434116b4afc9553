"""Virtual keys through `switchboard serve`: keys made with the JSON a LiteLLM user sends to /key/generate,
then used by the official anthropic SDK; the database file is created 0600 and survives a restart."""

import json
import os
import stat
import time
import urllib.error
import urllib.request

import anthropic
import pytest

from conftest import FAKE_GEMINI_KEY, MASTER_KEY, Gateway

CONFIG = """
model_list:
  - {{model_name: "claude-*", litellm_params: {{model: mock/echo}}}}
  - {{model_name: private, litellm_params: {{model: mock/echo}}}}
{extra}
general_settings:
  master_key: {master}
  database_url: "sqlite://{path}"
"""


def admin(gateway, method: str, path: str, body: dict | None = None, key: str = MASTER_KEY):
    request = urllib.request.Request(
        gateway.url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture
def database(tmp_path):
    return tmp_path / "state" / "switchboard.db"


def start(tmp_path, database, extra: str = "") -> Gateway:
    database.parent.mkdir(exist_ok=True)
    return Gateway(CONFIG.format(master=MASTER_KEY, path=database, extra=extra), tmp_path)


def test_a_litellm_style_key_works_for_its_models_only(tmp_path, database):
    gateway = start(tmp_path, database)
    try:
        # What LiteLLM's docs have users send.
        status, made = admin(gateway, "POST", "/key/generate", {
            "models": ["claude-*"], "key_alias": "alice-laptop", "user_id": "alice", "max_budget": 10,
            "budget_duration": "30d", "metadata": {"team": "platform"},
        })
        assert status == 200, made
        key = made["key"]
        assert key.startswith("sk-") and made["key_alias"] == "alice-laptop" and made["models"] == ["claude-*"]

        client = anthropic.Anthropic(base_url=gateway.url, api_key=key, max_retries=0)
        answer = client.messages.create(model="claude-sonnet-4-6", max_tokens=32, messages=[{"role": "user", "content": "hi"}])
        assert answer.content[0].text

        with pytest.raises(anthropic.PermissionDeniedError) as denied:
            client.messages.create(model="private", max_tokens=32, messages=[{"role": "user", "content": "hi"}])
        assert "claude-*" in str(denied.value)

        with pytest.raises(anthropic.AuthenticationError):
            anthropic.Anthropic(base_url=gateway.url, api_key="sk-made-up", max_retries=0).messages.create(
                model="claude-x", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            )
        status, _ = admin(gateway, "POST", "/key/generate", {}, key=key)
        assert status == 403, "a virtual key does not administer keys"
    finally:
        gateway.stop()

    assert stat.S_IMODE(os.stat(database).st_mode) == 0o600
    assert key.encode() not in database.read_bytes(), "only the key's hash is stored"

    # The key outlives the process; deleting it ends it.
    gateway = start(tmp_path, database)
    try:
        client = anthropic.Anthropic(base_url=gateway.url, api_key=key, max_retries=0)
        assert client.messages.create(model="claude-x", max_tokens=8, messages=[{"role": "user", "content": "hi"}]).content
        status, info = admin(gateway, "GET", f"/key/info?key={key}")
        assert status == 200 and info["info"]["user_id"] == "alice" and info["info"]["max_budget"] == 10
        status, deleted = admin(gateway, "POST", "/key/delete", {"keys": [key]})
        assert status == 200 and deleted["deleted_keys"] == [key]
        with pytest.raises(anthropic.AuthenticationError):
            client.messages.create(model="claude-x", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    finally:
        gateway.stop()


def test_bad_key_requests_name_the_field(tmp_path, database):
    gateway = start(tmp_path, database)
    try:
        for body, field in [({"max_budget": -5}, "max_budget"), ({"budget_duration": "fortnight"}, "budget_duration"),
                            ({"rpm_limit": "sixty"}, "rpm_limit"), ({"soft_budget_cooldown": True}, "soft_budget_cooldown")]:
            status, answer = admin(gateway, "POST", "/key/generate", body)
            assert status == 400 and field in answer["error"]["message"], answer
    finally:
        gateway.stop()


def inside_one_minute():
    """Rate windows are calendar minutes (as LiteLLM's): requests that must share one start well inside it."""
    second = time.time() % 60
    if second > 50:
        time.sleep(61 - second)


def test_a_key_at_its_rate_limit_gets_anthropics_429(tmp_path, database):
    inside_one_minute()
    gateway = start(tmp_path, database)
    try:
        status, made = admin(gateway, "POST", "/key/generate", {"key_alias": "ci-bot", "rpm_limit": 1})
        assert status == 200, made
        client = anthropic.Anthropic(base_url=gateway.url, api_key=made["key"], max_retries=0)
        client.messages.create(model="claude-x", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(anthropic.RateLimitError) as limited:
            client.messages.create(model="claude-x", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
        headers = limited.value.response.headers
        assert 1 <= int(headers["retry-after"]) <= 60
        assert headers["anthropic-ratelimit-requests-limit"] == "1"
        assert "ci-bot" in limited.value.message and "rpm_limit" in limited.value.message
    finally:
        gateway.stop()


def first_cost(gateway, key: str) -> float:
    """What the spend log says the key's requests cost."""
    status, rows = admin(gateway, "GET", f"/spend/logs?api_key={key}")
    assert status == 200
    return sum(row["spend"] for row in rows)


def test_a_spent_budget_stops_the_key_and_survives_a_restart(tmp_path, database, fake_gemini):
    # A priced model (the mock is free), on the fake Gemini.
    priced = f'  - {{model_name: priced, litellm_params: {{model: gemini/gemini-2.5-flash, api_key: {FAKE_GEMINI_KEY}, api_base: "{fake_gemini}/v1beta"}}}}'
    gateway = start(tmp_path, database, priced)
    try:
        status, made = admin(gateway, "POST", "/key/generate", {"key_alias": "tight", "max_budget": 0.000001, "budget_duration": "30d"})
        assert status == 200, made
        client = anthropic.Anthropic(base_url=gateway.url, api_key=made["key"], max_retries=0)
        first = client.messages.create(model="priced", max_tokens=32, messages=[{"role": "user", "content": "hello"}])
        assert first.usage.input_tokens > 0
        with pytest.raises(anthropic.RateLimitError) as spent:
            client.messages.create(model="priced", max_tokens=32, messages=[{"role": "user", "content": "again"}])
        assert "budget exceeded" in spent.value.message and "tight" in spent.value.message
        assert "retry-after" not in spent.value.response.headers
        with urllib.request.urlopen(gateway.url + "/metrics") as response:
            metrics = response.read().decode()
        # A key without a team: its empty team label is left out.
        spend = [line for line in metrics.splitlines() if line.startswith('switchboard_spend_usd_total{key_alias="tight"}')]
        assert spend, [line for line in metrics.splitlines() if "spend" in line]
        assert float(spend[0].split()[-1]) == pytest.approx(first_cost(gateway, made["key"]), rel=1e-9)
        assert 'switchboard_limit_rejections_total{scope="key",kind="budget"} 1' in metrics
    finally:
        assert gateway.stop() == 0

    gateway = start(tmp_path, database, priced)
    try:
        status, info = admin(gateway, "GET", f"/key/info?key={made['key']}")
        assert status == 200 and info["info"]["spend"] > 0.000001, "the spend was written at shutdown"
        with pytest.raises(anthropic.RateLimitError):
            anthropic.Anthropic(base_url=gateway.url, api_key=made["key"], max_retries=0).messages.create(
                model="priced", max_tokens=32, messages=[{"role": "user", "content": "after restart"}]
            )
    finally:
        gateway.stop()
