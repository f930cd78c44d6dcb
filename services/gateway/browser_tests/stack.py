"""The real services as ``nameko run`` subprocesses, in a RabbitMQ vhost of their own,
behind the real edge: the page, its API calls and its live feed take the production path.

No eventlet in this process (Playwright hangs under it): the services run in
child processes exactly as deployed, each with its own ``config.yaml``, and this
side only speaks HTTP to them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

import service_testing.stack


@dataclass
class Stack:
    """One gateway with its backends behind the edge; ``url`` is the edge's base URL."""

    url: str
    edge_metrics_url: str  # the edge's Prometheus exporter

    def open_at_the_edge(self) -> int:
        """Requests the edge is passing on to the gateway right now (an open stream is one)."""
        text = requests.get(self.edge_metrics_url, timeout=10).text
        [count] = re.findall(
            r'^haproxy_backend_current_sessions\{proxy="gateway"\} (\d+)', text, re.M
        )
        return int(count)

    def post_message(self, text: str) -> dict:
        response = requests.post(f"{self.url}/messages", json={"message": text}, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()


@contextmanager
def running_stack(log_dir: Path, **settings: str) -> Iterator[Stack]:
    """Every service with ``settings`` as extra environment, once the gateway's /ready
    is 200 (it needs all three backends); stopped, its vhost and keys deleted, on exit."""
    with service_testing.stack.running_stack(log_dir, "browser", settings) as running:
        yield Stack(running.url, f"{running.edge.internal_url}/metrics")
