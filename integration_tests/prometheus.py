"""What the tests ask a running Prometheus, through its HTTP API (/api/v1)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import requests

HTTP_SECONDS = 10


@dataclass(frozen=True)
class PrometheusApi:
    url: str

    def get(self, path: str, **params: str) -> dict | list:
        response = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=HTTP_SECONDS)
        response.raise_for_status()
        return response.json()["data"]

    def targets_by_job(self) -> Counter:
        """How many targets of each job are up; None-keyed: those that are not."""
        counted: Counter = Counter()
        for target in self.get("targets", state="active")["activeTargets"]:
            counted[target["labels"]["job"] if target["health"] == "up" else None] += 1
        return counted

    def loaded_rules(self) -> set[str]:
        return {rule["name"] for group in self.get("rules")["groups"] for rule in group["rules"]}

    def firing(self) -> list[dict]:
        return [alert for alert in self.get("alerts")["alerts"] if alert["state"] == "firing"]

    def alerting_jobs(self, name: str) -> list[str]:
        """The jobs an alert called ``name`` is pending or firing for."""
        return [
            alert["labels"]["job"]
            for alert in self.get("alerts")["alerts"]
            if alert["labels"]["alertname"] == name
        ]

    def query(self, expression: str) -> list[tuple[dict, str]]:
        """Each series of an instant query: (labels, value)."""
        return [
            (series["metric"], series["value"][1])
            for series in self.get("query", query=expression)["result"]
        ]
