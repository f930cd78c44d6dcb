"""The real services as ``nameko run`` subprocesses, in a RabbitMQ vhost of their own.

No eventlet in this process (Playwright hangs under it): the services run in
child processes exactly as deployed, each with its own ``config.yaml``, and this
side only speaks HTTP to them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlparse

import requests

from service_runtime.testing import delete_keys_with_prefix

ROOT = Path(__file__).resolve().parents[3]
AMQP_URI = os.environ.get("TEST_AMQP_URI", "pyamqp://guest:guest@127.0.0.1:5672/")
RABBIT_API_URI = os.environ.get("TEST_RABBIT_API_URI", "http://guest:guest@127.0.0.1:15672")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# service -> the class to run (naming it keeps nameko off the route mixins the module imports).
# The gateway's /ready needs all three backends.
SERVICES = {
    "airports": "airports.service:AirportsService",
    "trips": "trips.service:TripsService",
    "messages": "messages.service:MessagesService",
    "gateway": "gateway.service:GatewayService",
}
READY_TIMEOUT_SECONDS = 60
STOP_GRACE_SECONDS = 15


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RabbitVhost:
    """A throwaway vhost created and deleted through the management API."""

    def __init__(self) -> None:
        api = urlparse(RABBIT_API_URI)
        self.base = f"{api.scheme}://{api.hostname}:{api.port}/api"
        self.auth = (api.username or "guest", api.password or "guest")
        self.name = f"browser_test_{uuid.uuid4().hex}"

    def _call(self, method: str, path: str, **kwargs: object) -> None:
        response = requests.request(
            method, f"{self.base}{path}", auth=self.auth, timeout=10, **kwargs
        )
        response.raise_for_status()

    def create(self) -> str:
        vhost = quote(self.name, safe="")
        self._call("PUT", f"/vhosts/{vhost}")
        self._call(
            "PUT",
            f"/permissions/{vhost}/{quote(self.auth[0], safe='')}",
            json={"configure": ".*", "write": ".*", "read": ".*"},
        )
        return f"{AMQP_URI.rstrip('/')}/{vhost}"

    def delete(self) -> None:
        self._call("DELETE", f"/vhosts/{quote(self.name, safe='')}")


@dataclass
class Stack:
    """One gateway with its backends; ``url`` is the gateway's base URL."""

    url: str
    redis_key_prefix: str
    vhost: RabbitVhost
    log_dir: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def post_message(self, text: str) -> dict:
        response = requests.post(f"{self.url}/messages", json={"message": text}, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.log_dir.glob("*.log"))
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}\n{self.logs()}")
            try:
                if requests.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass  # the gateway is not listening yet
            time.sleep(0.2)
        raise RuntimeError(f"{self.url}/ready not 200 in {READY_TIMEOUT_SECONDS} s\n{self.logs()}")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()  # nameko stops gracefully on SIGTERM
        for process in self.processes.values():
            try:
                process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.vhost.delete()
        delete_keys_with_prefix(REDIS_URL, self.redis_key_prefix)


def start_stack(log_dir: Path, **settings: str) -> Stack:
    """Start every service with ``settings`` as extra environment; returns once /ready is 200.

    The caller must ``stop()`` the result; on failure this stops what it started.
    """
    port = free_port()
    vhost = RabbitVhost()
    stack = Stack(
        url=f"http://127.0.0.1:{port}",
        redis_key_prefix=f"test:browser:{uuid.uuid4().hex}:",
        vhost=vhost,
        log_dir=log_dir,
    )
    env = {
        **os.environ,
        "AMQP_URI": vhost.create(),
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": stack.redis_key_prefix,
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        **settings,
    }
    try:
        for name, target in SERVICES.items():
            with (log_dir / f"{name}.log").open("wb") as log:
                stack.processes[name] = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "nameko",
                        "run",
                        "--config",
                        str(ROOT / "services" / name / "config.yaml"),
                        target,
                    ],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=ROOT,
                )
        stack.wait_ready()
    except BaseException:
        stack.stop()
        raise
    return stack
