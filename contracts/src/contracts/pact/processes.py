"""Run nameko services as real ``nameko run`` processes, for tests outside eventlet."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from nameko.exceptions import UnknownService
from nameko.standalone.rpc import ServiceRpcProxy

START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15
# kombu's consumer prints this once the process's queue consumer is connected.
CONNECTED_LOG_LINE = "Connected to amqp://"


@dataclass
class ServiceCommand:
    """How to start one service: ``<python> -m nameko run --config <config> <target>``.

    ``python`` is the interpreter of the venv the service is installed in (an old
    release's venv, for instance); ``cwd`` the checkout it runs from."""

    service: str
    target: str  # "package.module:ServiceClass"
    config: Path
    python: str = sys.executable
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    # Answers True once the service serves (given the AMQP URI): ping by default;
    # an HTTP-only service (the gateway) probes its port instead.
    probe: Callable[[str], bool] | None = None

    def serves(self, amqp_uri: str) -> bool:
        if self.probe is not None:
            return self.probe(amqp_uri)
        return answers_ping(self.service, amqp_uri)


class NamekoProcess:
    """One running ``nameko run``; ``env`` (AMQP_URI, REDIS_URL ...) feeds its config.yaml."""

    def __init__(self, command: ServiceCommand, env: dict[str, str], log: IO[bytes]) -> None:
        self.command = command
        self.amqp_uri = env["AMQP_URI"]
        self.log = log
        argv = [command.python, "-m", "nameko", "run", "--config", str(command.config)]
        self.process = subprocess.Popen(
            [*argv, command.target],
            env={**os.environ, **env, **command.env},
            cwd=command.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def ready(self) -> bool:
        """Connected to the broker and its service answers ping. Another instance
        may already answer ping for the same queue: the log line is this one's."""
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.command.service} exited:\n{self.output()}")
        return CONNECTED_LOG_LINE in self.output() and self.command.serves(self.amqp_uri)

    def wait_stopped(self) -> None:
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def stop_all(processes: list[NamekoProcess]) -> None:
    """SIGTERM all first: each shuts down gracefully in parallel with the others."""
    for process in processes:
        process.process.terminate()
    for process in processes:
        process.wait_stopped()


def answers_ping(service: str, amqp_uri: str) -> bool:
    try:
        with ServiceRpcProxy(service, {"AMQP_URI": amqp_uri}, timeout=5) as proxy:
            proxy.ping()
    except UnknownService:
        return False
    return True


@contextmanager
def running(
    commands: Sequence[ServiceCommand], env: dict[str, str]
) -> Iterator[list[NamekoProcess]]:
    """Start every command at once (they boot in parallel), wait until all are ready,
    stop them all on exit."""
    with ExitStack() as stack:
        processes: list[NamekoProcess] = []
        stack.callback(stop_all, processes)
        for command in commands:
            log = stack.enter_context(tempfile.TemporaryFile())
            processes.append(NamekoProcess(command, env, log))
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        waiting = list(processes)
        while waiting:
            if time.monotonic() > deadline:
                names = ", ".join(p.command.service for p in waiting)
                raise RuntimeError(f"not ready in {START_TIMEOUT_SECONDS} s: {names}")
            waiting = [p for p in waiting if not p.ready()]
            time.sleep(0.1)
        yield processes
