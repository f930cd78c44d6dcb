"""deploy/prometheus with promtool: the config and its rules load, every alert fires and
stays silent where alerts_test.yml says, and each alert has a case of each kind there
and a runbook line in docs/operations.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from promtool import PROMETHEUS_DIR, promtool

RULES = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
RULE_TESTS = yaml.safe_load((PROMETHEUS_DIR / "tests" / "alerts_test.yml").read_text())
OPERATIONS = (PROMETHEUS_DIR.parent.parent / "docs" / "operations.md").read_text()
ALERTS = [rule for group in RULES["groups"] for rule in group["rules"] if "alert" in rule]


def test_the_config_and_its_rule_files_are_valid():
    checked = promtool("check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in checked.stdout


def test_every_alert_fires_and_stays_silent_as_its_unit_tests_say():
    tested = promtool("test", "rules", str(Path("tests") / "alerts_test.yml"))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def cases(alertname: str) -> list[list]:
    """The expected alerts of each check of ``alertname`` in alerts_test.yml."""
    return [
        check["exp_alerts"]
        for test in RULE_TESTS["tests"]
        for check in test.get("alert_rule_test", [])
        if check["alertname"] == alertname
    ]


@pytest.mark.parametrize("alert", ALERTS, ids=[alert["alert"] for alert in ALERTS])
def test_every_alert_has_a_firing_and_a_silent_case(alert):
    expected = cases(alert["alert"])
    assert any(expected), f"{alert['alert']}: no case where it fires"
    assert not all(expected), f"{alert['alert']}: no case where it stays silent"


@pytest.mark.parametrize("alert", ALERTS, ids=[alert["alert"] for alert in ALERTS])
def test_every_alert_has_a_runbook_line(alert):
    runbook = alert["annotations"]["runbook"]
    assert runbook == f"docs/operations.md#{alert['alert'].lower()}"
    # The anchor GitHub makes of a heading `#### AlertName`.
    assert re.search(rf"^#+ {alert['alert']}$", OPERATIONS, re.MULTILINE), runbook
