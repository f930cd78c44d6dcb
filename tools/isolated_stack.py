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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from service_testing.isolation import isolated_environment
from service_testing.ports import free_port
from service_testing.services import REPO_ROOT
from service_testing.waiting import wait_until

START_TIMEOUT_SECONDS = 300  # a cold run creates a venv per service


@dataclass
class RunningStack:
    url: str
    service_pids: list[int]
    process: subprocess.Popen
    ready_seconds: float  # from the first service's start to /ready answering 200
    output: list[str]  # the runner's lines so far

    def stop(self) -> int:
        """SIGTERM the runner, as a user's Ctrl-C would; its exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


class RunnerOutput:
    """The runner's output, read by a thread of its own (a silent runner cannot block
    the test) and echoed: the pids of the services it started, the URL once ready."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.url: str | None = None
        self.ready_seconds = 0.0
        self.pids: list[int] = []
        self.lines: list[str] = []
        threading.Thread(target=self._read, args=(process.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            sys.stdout.write(line)
            self.lines.append(line)
            if started := re.search(r"started \w+ \(pid (\d+)\)", line):
                self.pids.append(int(started.group(1)))
            if ready := re.search(r"ready in ([\d.]+)s: (http://\S+)/", line):
                self.ready_seconds, self.url = float(ready.group(1)), ready.group(2)


def wait_until_ready(process: subprocess.Popen, output: RunnerOutput) -> str:
    """The gateway URL, once the runner printed it (within ``START_TIMEOUT_SECONDS``)."""

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"the stack exited with {process.returncode} before it was ready")
        return output.url is not None

    wait_until(ready, START_TIMEOUT_SECONDS, "the stack to print its URL")
    assert output.url is not None
    return output.url


@contextmanager
def running_stack(env: dict[str, str]) -> Iterator[RunningStack]:
    """Run tools/devstack.py in the environment ``env``, as ``nox -s up`` does; killed
    when the block ends if it still runs."""
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "tools" / "devstack.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = RunnerOutput(process)
        url = wait_until_ready(process, output)
        yield RunningStack(url, output.pids, process, output.ready_seconds, output.lines)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@contextmanager
def isolated_stack(**environment: str) -> Iterator[RunningStack]:
    """Run tools/devstack.py isolated; stopped (and cleaned) when the block ends."""
    with isolated_environment("devstack") as isolated:
        port = free_port()
        env = {**os.environ, **isolated.env(GATEWAY_PORT=str(port), **environment)}
        with running_stack(env) as stack:
            yield stack
