"""The observability profile for real: `docker compose --profile observability up --wait`
brings Prometheus up beside the stack; it finds and scrapes every target (each replica of
a scaled service too, RabbitMQ's exporter included), loads deploy/prometheus/alerts.yml,
is quiet while all is well, and raises ServiceWithoutLiveInstance when a service is gone.

Under a project name and ports of its own (integration_tests.compose).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import requests
import yaml

from integration_tests.compose import ComposeStack, running_compose_stack
from service_testing.ports import free_port
from service_testing.services import REPO_ROOT
from service_testing.waiting import wait_until

ALERTS = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
# DNS discovery every 10 s, scrapes and rule evaluations every 15 s (prometheus.yml).
DISCOVERY_SECONDS = 120
HTTP_SECONDS = 10
AIRPORTS_REPLICAS = 2


@pytest.fixture
def observed_stack(integration_mode, monkeypatch, report) -> Iterator[tuple[ComposeStack, str]]:
    port = free_port()
    monkeypatch.setenv("COMPOSE_PROFILES", "observability")
    monkeypatch.setenv("PROMETHEUS_HOST_PORT", str(port))
    with running_compose_stack(integration_mode, monkeypatch, report) as stack:
        yield stack, f"http://127.0.0.1:{port}"


def api(prometheus: str, path: str, **params: str) -> dict | list:
    response = requests.get(f"{prometheus}/api/v1/{path}", params=params, timeout=HTTP_SECONDS)
    response.raise_for_status()
    return response.json()["data"]


def targets_by_job(prometheus: str) -> Counter:
    """How many targets of each job are up; None-keyed: those that are not."""
    counted: Counter = Counter()
    for target in api(prometheus, "targets", state="active")["activeTargets"]:
        counted[target["labels"]["job"] if target["health"] == "up" else None] += 1
    return counted


def alerts_named(prometheus: str, name: str) -> list[dict]:
    return [
        alert
        for alert in api(prometheus, "alerts")["alerts"]
        if alert["labels"]["alertname"] == name
    ]


def test_prometheus_scrapes_every_replica_and_alerts_when_a_service_is_gone(observed_stack):
    stack, prometheus = observed_stack
    stack.compose_command("up", "--detach", "--wait", "--scale", f"airports={AIRPORTS_REPLICAS}")

    expected = Counter(
        edge=1, gateway=1, airports=AIRPORTS_REPLICAS, trips=1, messages=1, rabbitmq=1
    )  # and none down
    wait_until(
        lambda: targets_by_job(prometheus) == expected,
        DISCOVERY_SECONDS,
        f"Prometheus to scrape {dict(expected)}, every target up",
    )

    # Every rule of alerts.yml is loaded, and none fires on a healthy stack.
    loaded = {
        rule["name"] for group in api(prometheus, "rules")["groups"] for rule in group["rules"]
    }
    assert loaded == {rule["alert"] for group in ALERTS["groups"] for rule in group["rules"]}
    assert [a for a in api(prometheus, "alerts")["alerts"] if a["state"] == "firing"] == []
    # The gateway's own check of its Redis, as scraped.
    (redis_up,) = api(prometheus, "query", query="gateway_redis_up")["result"]
    assert redis_up["value"][1] == "1"

    stack.compose_command("stop", "messages")
    wait_until(
        lambda: (
            [a["labels"]["job"] for a in alerts_named(prometheus, "ServiceWithoutLiveInstance")]
            == ["messages"]
        ),
        DISCOVERY_SECONDS,
        "ServiceWithoutLiveInstance for messages (pending or firing)",
    )
