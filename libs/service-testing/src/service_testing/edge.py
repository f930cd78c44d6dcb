"""The real edge for tests: HAProxy running deploy/edge/haproxy.cfg in front of a gateway.

The Debian package's binary (``apt-get install -y haproxy``; the ``haproxy:2.6`` image
holds the same build) runs the very file compose, the swarm stack and Kubernetes mount.
The file reads its settings from the environment (``EDGE_*``, listed in its header):
a test passes its own, e.g. a deadline far below the default, and gets the edge on a
free loopback port with its internal listener (``/metrics``, ``/health``) on another.

Standard library only (nox checks ``HAPROXY`` before any venv exists).
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from service_testing.ports import free_port
from service_testing.prerequisites import require_executable
from service_testing.services import REPO_ROOT
from service_testing.waiting import wait_until

HAPROXY = os.environ.get("HAPROXY_PATH", "/usr/sbin/haproxy")
INSTALL_HAPROXY = "apt-get install -y haproxy"
EDGE_CONFIG = REPO_ROOT / "deploy" / "edge" / "haproxy.cfg"
START_TIMEOUT_SECONDS = 15
STOP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Edge:
    url: str  # the public listener: http://127.0.0.1:<port>
    port: int
    internal_url: str  # /metrics (the edge's Prometheus exporter) and /health
    log_path: Path
    pid: int  # HAProxy's process (the bench reads its CPU time)

    def log(self) -> str:
        """Everything HAProxy wrote: its start-up lines and one line per request."""
        return self.log_path.read_text(errors="replace")


def internal_health(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def running_edge(gateway: str, log_dir: Path, **settings: str) -> Iterator[Edge]:
    """HAProxy in front of ``gateway`` (``host:port``), with ``settings`` as extra
    environment, once it listens; stopped on exit."""
    require_executable(HAPROXY, "HAProxy", INSTALL_HAPROXY)
    port, internal_port = free_port(), free_port()
    env = {
        **os.environ,
        "EDGE_BIND": f"127.0.0.1:{port}",
        "EDGE_METRICS_BIND": f"127.0.0.1:{internal_port}",
        "EDGE_GATEWAY": gateway,
        # An address, not a name: one server, no DNS.
        "EDGE_GATEWAY_SLOTS": "1",
        **settings,
    }
    log_path = log_dir / f"edge-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(EDGE_CONFIG)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    internal_url = f"http://127.0.0.1:{internal_port}"
    edge = Edge(f"http://127.0.0.1:{port}", port, internal_url, log_path, process.pid)
    try:

        def listening() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"HAProxy exited with {process.returncode}:\n{edge.log()}")
            return internal_health(edge.internal_url)

        wait_until(listening, START_TIMEOUT_SECONDS, "the edge to listen")
        yield edge
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
