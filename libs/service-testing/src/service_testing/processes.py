"""Services as real ``nameko run`` processes (through ``service_runtime.serve``, as
deployed), each writing its output to a log file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from service_testing.services import REPO_ROOT, SERVICES, ServiceSpec

STOP_GRACE_SECONDS = 15
KILL_REAP_SECONDS = 10
# How every service is started (nameko run with the project's logging), in a checkout
# that has it; a release from before it runs nameko's own CLI.
SERVE = Path("libs/service-runtime/src/service_runtime/serve.py")


def runner_module(root: Path) -> str:
    """The module ``python -m <it> run`` starts a service of the checkout at ``root`` with."""
    return "service_runtime.serve" if (root / SERVE).exists() else "nameko"


@dataclass(frozen=True)
class ServiceCommand:
    """How to start one service: ``<python> -m <runner> run --config <config> <target>`` in
    ``cwd`` (the runner: ``runner_module(cwd)``).

    ``python`` is the interpreter of the venv the service is installed in (an old
    release's venv, for instance); ``env`` is added to the launcher's environment;
    ``probe`` answers True once the process serves (``service_testing.probes``).
    """

    service: str
    target: str
    config: Path
    python: str = sys.executable
    cwd: Path = REPO_ROOT
    env: dict[str, str] = field(default_factory=dict)
    probe: Callable[[ServiceProcess], bool] | None = None

    @classmethod
    def of(
        cls, service: str, root: Path = REPO_ROOT, spec: ServiceSpec | None = None
    ) -> ServiceCommand:
        """``service`` as the registry (or ``spec``) says, run from the checkout at ``root``."""
        spec = spec or SERVICES[service]
        return cls(service, spec.target, root / spec.config, cwd=root)


class ServiceProcess:
    """One running (or finished) ``nameko run``; ``env`` (AMQP_URI, REDIS_URL ...) feeds
    its config.yaml's ``${VAR:default}``."""

    def __init__(self, command: ServiceCommand, env: dict[str, str], log_path: Path) -> None:
        self.command = command
        self.name = command.service
        self.env = {**env, **command.env}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        runner = runner_module(self.command.cwd)
        argv = [self.command.python, "-m", runner, "run", "--config", str(self.command.config)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*argv, self.command.target],
                env={**os.environ, **self.env},
                cwd=self.command.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def send(self, signum: signal.Signals) -> None:
        os.kill(self.pid, signum)

    def wait(self, timeout: float) -> int:
        """The exit code, once the process has exited (at most ``timeout`` s)."""
        assert self.process is not None, f"{self.name} was never started"
        return self.process.wait(timeout)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def ensure_running(self) -> None:
        """Fail fast, with the end of its log, if the process has exited."""
        if not self.running():
            raise AssertionError(f"{self.name} exited early; its log ends:\n{self.log_tail()}")

    def alive_and(self, condition: bool) -> bool:
        """``condition``, after checking the process is still up."""
        self.ensure_running()
        return condition

    def kill(self) -> None:
        """SIGKILL (it also ends a SIGSTOPped process) and reap."""
        if self.running():
            self.send(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(KILL_REAP_SECONDS)


def stop_all(
    processes: Sequence[subprocess.Popen], grace_seconds: float = STOP_GRACE_SECONDS
) -> list[subprocess.Popen]:
    """SIGTERM every one still running (in the order given), so they shut down
    gracefully in parallel; SIGKILL and reap those still running ``grace_seconds``
    later (one deadline for all). The killed ones are returned.

    Standard library only: tools/devstack.py stops its services with it too."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + grace_seconds
    killed = []
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(KILL_REAP_SECONDS)
            killed.append(process)
    return killed
