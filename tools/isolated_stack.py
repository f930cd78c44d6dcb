"""The devstack (`nox -s up`) started in isolation, for tests and benchmarks.

A throwaway RabbitMQ vhost (created and deleted through the management API), a
unique Redis key prefix (its keys deleted afterwards) and a free gateway port: it
never meets a developer's running stack or data. Standard library + redis only.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
RABBIT_API = os.environ.get("TEST_RABBIT_API_URI", "http://127.0.0.1:15672")
RABBIT_AUTH = "Basic " + base64.b64encode(b"guest:guest").decode()
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
START_TIMEOUT_SECONDS = 300  # a cold run creates a venv per service


@dataclass
class RunningStack:
    url: str
    service_pids: list[int]
    process: subprocess.Popen

    def stop(self) -> int:
        """SIGTERM the runner, as a user's Ctrl-C would; its exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def rabbit_api(method: str, path: str, body: dict | None = None) -> None:
    request = urllib.request.Request(
        f"{RABBIT_API}/api/{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": RABBIT_AUTH, "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()


@contextmanager
def throwaway_vhost() -> Iterator[str]:
    name = f"devstack_test_{uuid.uuid4().hex}"
    rabbit_api("PUT", f"vhosts/{name}")
    permissions = {"configure": ".*", "write": ".*", "read": ".*"}
    rabbit_api("PUT", f"permissions/{name}/guest", permissions)
    try:
        yield name
    finally:
        rabbit_api("DELETE", f"vhosts/{name}")


@contextmanager
def throwaway_key_prefix() -> Iterator[str]:
    prefix = f"test:{uuid.uuid4().hex}:"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_until_ready(process: subprocess.Popen) -> tuple[str, list[int]]:
    """The gateway URL the runner printed, and the pids of the services it started."""
    pids: list[int] = []
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    for line in process.stdout:
        sys.stdout.write(line)
        if started := re.search(r"started \w+ \(pid (\d+)\)", line):
            pids.append(int(started.group(1)))
        if ready := re.search(r"ready in [\d.]+s: (http://\S+)/", line):
            return ready.group(1), pids
        if time.monotonic() > deadline:
            break
    raise RuntimeError(f"the stack was not ready (exit code {process.poll()})")


def drain(process: subprocess.Popen) -> None:
    """Keep reading the runner's output so its pipe never fills and blocks it."""
    for _ in process.stdout:
        pass


@contextmanager
def isolated_stack(**environment: str) -> Iterator[RunningStack]:
    """Run tools/devstack.py isolated; stopped (and cleaned) when the block ends."""
    with throwaway_vhost() as vhost, throwaway_key_prefix() as prefix:
        port = free_port()
        env = {
            **os.environ,
            "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}",
            "REDIS_URL": REDIS_URL,
            "REDIS_KEY_PREFIX": prefix,
            "GATEWAY_PORT": str(port),
            **environment,
        }
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "tools" / "devstack.py")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            url, pids = read_until_ready(process)
            threading.Thread(target=drain, args=(process,), daemon=True).start()
            yield RunningStack(url, pids, process)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
