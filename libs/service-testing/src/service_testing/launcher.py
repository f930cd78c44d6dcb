"""Start several service processes at once (they boot in parallel) and wait until each serves."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from service_testing.probes import rpc_served
from service_testing.processes import ServiceCommand, ServiceProcess, stop_all
from service_testing.waiting import wait_until

START_TIMEOUT_SECONDS = 60.0


class ServiceLauncher:
    """Starts the service processes of a test (``env`` for all, logs in ``log_dir``)
    and remembers them, for ``stop_all`` or ``kill_all`` afterwards."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.processes: list[ServiceProcess] = []

    def _spawn(self, command: ServiceCommand) -> ServiceProcess:
        """Start ``command`` without waiting for it."""
        log_path = self.log_dir / f"{command.service}-{len(self.processes)}.log"
        process = ServiceProcess(command, self.env, log_path)
        self.processes.append(process)
        process.start()
        return process

    def start(self, commands: Sequence[ServiceCommand]) -> list[ServiceProcess]:
        """Start every command at once; return once each one's probe (by default: the
        RPC ``ping``) answers True, failing fast if one exits."""
        processes = [self._spawn(command) for command in commands]
        waiting = list(processes)

        def all_serve() -> bool:
            waiting[:] = [process for process in waiting if not serves(process)]
            return not waiting

        try:
            wait_until(all_serve, START_TIMEOUT_SECONDS, "services to serve")
        except TimeoutError as late:
            logs = "\n".join(f"--- {p.name} log ends:\n{p.log_tail()}" for p in waiting)
            names = [process.name for process in waiting]
            raise TimeoutError(f"{late} (still not serving: {names})\n{logs}") from None
        return processes

    def stop_all(self) -> None:
        """SIGTERM, then SIGKILL what has not stopped in time."""
        stop_all([process.process for process in self.processes if process.process is not None])

    def kill_all(self) -> None:
        """SIGKILL at once; each log's end is printed (pytest shows it for a failed test)."""
        for process in self.processes:
            process.kill()
            print(f"--- {process.name} (pid {process.pid}) log ends ---\n{process.log_tail()}")


def serves(process: ServiceProcess) -> bool:
    """The process is up (else it fails fast) and its command's probe answers True."""
    process.ensure_running()
    return (process.command.probe or rpc_served)(process)


@contextmanager
def running(
    commands: Sequence[ServiceCommand], env: dict[str, str], log_dir: Path | None = None
) -> Iterator[list[ServiceProcess]]:
    """``commands`` serving (see ``ServiceLauncher.start``); stopped gracefully on exit.
    Without ``log_dir`` the logs go to a temporary directory."""
    with ExitStack() as stack:
        if log_dir is None:
            log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        launcher = ServiceLauncher(log_dir, env)
        stack.callback(launcher.stop_all)
        yield launcher.start(commands)
