"""`nox -s up` for real: start the stack, walk through the API, SIGTERM it.

The stack runs in a throwaway RabbitMQ vhost, under a unique Redis key prefix and
on a free port, so it never meets a developer's running stack or data.
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
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
RABBIT_API = os.environ.get("TEST_RABBIT_API_URI", "http://127.0.0.1:15672")
RABBIT_AUTH = "Basic " + base64.b64encode(b"guest:guest").decode()
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
START_TIMEOUT_SECONDS = 300  # a cold run creates three venvs


def rabbit_api(method: str, path: str, body: dict | None = None) -> None:
    request = urllib.request.Request(
        f"{RABBIT_API}/api/{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": RABBIT_AUTH, "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture
def vhost():
    name = f"devstack_test_{uuid.uuid4().hex}"
    rabbit_api("PUT", f"vhosts/{name}")
    rabbit_api("PUT", f"permissions/{name}/guest", {"configure": ".*", "write": ".*", "read": ".*"})
    yield name
    rabbit_api("DELETE", f"vhosts/{name}")


@pytest.fixture
def key_prefix():
    prefix = f"test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, method=method, data=None if body is None else json.dumps(body).encode()
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def read_until_ready(stack: subprocess.Popen) -> tuple[str, list[int]]:
    """The gateway URL the stack printed, and the pids of the services it started."""
    pids: list[int] = []
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    for line in stack.stdout:
        sys.stdout.write(line)
        if started := re.search(r"started \w+ \(pid (\d+)\)", line):
            pids.append(int(started.group(1)))
        if ready := re.search(r"ready in [\d.]+s: (http://\S+)/", line):
            return ready.group(1), pids
        assert time.monotonic() < deadline, "the stack did not become ready in time"
    pytest.fail(f"the stack exited before it was ready (exit code {stack.wait()})")


def test_up_serves_the_walkthrough_and_sigterm_stops_every_service(vhost, key_prefix):
    port = free_port()
    env = {
        **os.environ,
        "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}",
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": key_prefix,
        "GATEWAY_PORT": str(port),
    }
    stack = subprocess.Popen(
        [sys.executable, str(ROOT / "tools" / "devstack.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url, pids = read_until_ready(stack)
        assert url == f"http://127.0.0.1:{port}"
        assert len(pids) == 3

        status, lisbon = call("POST", f"{url}/airport", {"airport": "Lisbon"})
        assert status == 201
        status, porto = call("POST", f"{url}/airport", {"airport": "Porto"})
        assert status == 201
        assert call("GET", f"{url}/airport/{lisbon['id']}") == (200, lisbon)
        status, trip = call(
            "POST", f"{url}/trip", {"airport_from": lisbon["id"], "airport_to": porto["id"]}
        )
        assert status == 201
        assert call("GET", f"{url}/trip/{trip['id']}") == (200, trip)

        stack.send_signal(signal.SIGTERM)
        assert stack.wait(timeout=60) == 0
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    finally:
        if stack.poll() is None:
            stack.kill()
            stack.wait()
