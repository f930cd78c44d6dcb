"""The devstack (`nox -s up`) started in isolation, for tests and benchmarks.

A throwaway RabbitMQ vhost, a unique Redis key prefix (its keys deleted afterwards)
and a free gateway port (all from service_testing): it never meets a developer's
running stack or data. The stack itself is tools/devstack.py, run as `nox -s up` runs it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from service_testing.local_brokers import local_amqp_uri, local_rabbit_api_uri, local_redis_url
from service_testing.ports import free_port
from service_testing.redis_keys import deleting_keys
from service_testing.services import REPO_ROOT
from service_testing.vhosts import throwaway_vhost

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
    redis_url = local_redis_url()
    with (
        throwaway_vhost(local_amqp_uri(), local_rabbit_api_uri(), "devstack_test_") as amqp_uri,
        deleting_keys(redis_url, f"test:{uuid.uuid4().hex}:") as prefix,
    ):
        port = free_port()
        env = {
            **os.environ,
            "AMQP_URI": amqp_uri,
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": prefix,
            "GATEWAY_PORT": str(port),
            **environment,
        }
        process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "tools" / "devstack.py")],
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
