"""The Prometheus alert rules in dashboards/alerts.yml: promtool accepts them, its unit tests
(dashboards/alerts_test.yml) pass, each alert is tested both firing and silent, and the otel/ stack
loads them. No gateway is needed; Tests/e2e/test_prometheus_alerts.py runs them against one."""

import shutil
import subprocess

import yaml

from conftest import ROOT

PROMTOOL = "/usr/bin/promtool"
DASHBOARDS = ROOT / "dashboards"


def promtool(*args, cwd=DASHBOARDS):
    result = subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def alert_rules():
    groups = yaml.safe_load((DASHBOARDS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_promtool_checks_the_rules():
    output = promtool("check", "rules", "alerts.yml")
    assert f"SUCCESS: {len(alert_rules())} rules found" in output


def test_promtool_unit_tests_pass():
    promtool("test", "rules", "alerts_test.yml")


def test_every_alert_has_a_severity_and_says_what_to_do():
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert len(rule["annotations"]["description"].split()) >= 20, rule["alert"]


def test_every_alert_is_unit_tested_firing_and_silent():
    cases = yaml.safe_load((DASHBOARDS / "alerts_test.yml").read_text())["tests"]
    firing, silent = set(), set()
    for case in cases:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names - firing == set(), "never tested firing"
    assert names - silent == set(), "never tested silent"


def test_the_otel_stack_loads_the_rules(tmp_path):
    """otel/prometheus.yml names alerts.yml, which compose.yaml mounts beside it; promtool reads the
    configuration with the rules in the same place."""
    config = ROOT / "otel" / "prometheus.yml"
    assert yaml.safe_load(config.read_text())["rule_files"] == ["alerts.yml"]
    compose = yaml.safe_load((ROOT / "otel" / "compose.yaml").read_text())
    assert "../dashboards/alerts.yml:/etc/prometheus/alerts.yml:ro" in compose["services"]["prometheus"]["volumes"]
    shutil.copy(config, tmp_path / "prometheus.yml")
    shutil.copy(DASHBOARDS / "alerts.yml", tmp_path / "alerts.yml")
    output = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert "SUCCESS: 1 rule files found" in output
