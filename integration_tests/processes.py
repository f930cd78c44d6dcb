"""Services as real ``nameko run`` processes, started and stopped for one test.

Each process gets its settings through the environment (the services' config.yaml
read ``${VAR:default}``) and writes its log to a file that a failing test shows.
``ServiceLauncher.stop_all`` (a fixture finalizer) kills whatever is still running,
whatever happened in the test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests

from integration_tests.brokers import rpc_consumers
from integration_tests.waiting import wait_until

REPO_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 60.0

# service -> (config file, what `nameko run` starts); compose.yaml runs the same classes.
SERVICES: dict[str, tuple[str, str]] = {
    "airports": ("services/airports/config.yaml", "airports.service:AirportsService"),
    "trips": ("services/trips/config.yaml", "trips.service:TripsService"),
    "messages": ("services/messages/config.yaml", "messages.service:MessagesService"),
    "gateway": ("services/gateway/config.yaml", "gateway.service:GatewayService"),
    "sleeper": ("integration_tests/sleeper.yaml", "integration_tests.sleeper:SleeperService"),
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServiceProcess:
    """One ``python -m nameko run --config CONFIG TARGET`` process."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path) -> None:
        config, target = SERVICES[name]
        self.name = name
        self.log_path = log_path
        self.command = [sys.executable, "-m", "nameko", "run", "--config", config, target]
        self.env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **env}
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""  # the web server's base URL, for the gateway

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT
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

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def alive_and(self, condition: bool) -> bool:
        """``condition``, after checking the process is still up (fail fast with its log)."""
        if not self.running():
            raise AssertionError(f"{self.name} exited early; its log ends:\n{self.log_tail()}")
        return condition

    def kill(self) -> None:
        """SIGKILL (it also ends a SIGSTOPped process) and reap."""
        if self.running():
            self.send(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(10)


class ServiceLauncher:
    """Starts the service processes of one test and waits until each one serves."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.processes: list[ServiceProcess] = []

    def _spawn(self, name: str, env: dict[str, str]) -> ServiceProcess:
        log_path = self.log_dir / f"{name}-{len(self.processes)}.log"
        process = ServiceProcess(name, {**self.env, **env}, log_path)
        self.processes.append(process)
        process.start()
        return process

    def start_rpc_service(self, name: str, **env: str) -> ServiceProcess:
        """One more instance of an RPC service, returned once it consumes its queue."""
        amqp_uri = {**self.env, **env}["AMQP_URI"]
        expected = rpc_consumers(amqp_uri, name) + 1
        process = self._spawn(name, env)
        wait_until(
            lambda: process.alive_and(rpc_consumers(amqp_uri, name) >= expected),
            START_TIMEOUT_SECONDS,
            f"{name} instance #{expected} to consume rpc-{name}",
        )
        return process

    def start_gateway(self, **env: str) -> ServiceProcess:
        """The gateway on a free loopback port, returned once it answers /health."""
        port = free_port()
        process = self._spawn(
            "gateway", {"GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(port), **env}
        )
        process.url = f"http://127.0.0.1:{port}"
        wait_until(
            lambda: process.alive_and(answers(f"{process.url}/health")),
            START_TIMEOUT_SECONDS,
            f"the gateway at {process.url}",
        )
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            process.kill()
            # Captured output: pytest shows it only for a failed test.
            print(f"--- {process.name} (pid {process.pid}) log ends ---\n{process.log_tail()}")


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False
