"""Run the whole stack locally in the foreground: `nox -s up` (or `python tools/devstack.py`).

Each service gets a virtualenv of its own under `.venvs/<service>` holding only that
service and the shared packages (installed editable, so a restart picks up code
changes); the broker and Redis are checked (and started, where this machine can);
each service runs as `nameko run` (through service_runtime.serve); the gateway URL
is printed once `/ready` answers 200. Ctrl-C or SIGTERM stops every child, gracefully first.

Standard library only: it runs before any venv exists. What it shares with the
tests (the service registry, the broker checks, stopping processes, polling) it
imports from libs/service-testing's standard-library-only modules in the
checkout. Settings come from the
environment, the same variables the services' config.yaml files read (AMQP_URI,
REDIS_URL is per service so it is not overridden here, REDIS_KEY_PREFIX,
GATEWAY_PORT ...), GATEWAY_PROCESSES: how many gateway processes share the
gateway's port (default 2, one per core of the machine the project targets), and
DEVSTACK_LOG_DIR: when set, each process's output goes to `<dir>/<name>.log` instead of
this terminal (the bench's choice: a relayed line wakes this script).
Each process holds its own eventlet loop on one core; the kernel spreads the
connections between them (SO_REUSEPORT, which eventlet's listening socket sets).
Every gateway process receives every live-feed event, so each page's stream is
complete whichever process serves it.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
# The one service registry (config, class, start order) and the process and broker
# helpers, shared with the tests.
sys.path.insert(0, str(ROOT / "libs" / "service-testing" / "src"))
from service_testing.local_brokers import stack_amqp_uri, stack_redis_url  # noqa: E402 - needs the path
from service_testing.prerequisites import Missing, ensure_broker  # noqa: E402
from service_testing.processes import stop_all  # noqa: E402
from service_testing.services import SERVICES  # noqa: E402
from service_testing.waiting import wait_until  # noqa: E402

VENVS = ROOT / ".venvs"
SHARED_PACKAGES = ("contracts", "libs/service-runtime")
READY_TIMEOUT_SECONDS = 60
# eventlet's green DNS resolver (dnspython) costs each process ~14 MB of its ~75 MB;
# the runner resolves names with the system's resolver off the eventlet hub
# (service_runtime.name_lookup). An explicit setting in the environment wins.
SERVICE_ENVIRONMENT = {"EVENTLET_NO_GREENDNS": "yes"}
DEFAULT_GATEWAY_PROCESSES = 2
STOP_GRACE_SECONDS = 15
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class StackError(RuntimeError):
    """Something the stack needs is missing; the message says what to do."""


def log(message: str) -> None:
    print(f"[devstack] {message}", flush=True)


# --- virtualenvs -----------------------------------------------------------------


def install_inputs_digest(service: str) -> str:
    """Changes when anything that decides the venv's contents changes."""
    digest = hashlib.sha256()
    for path in (
        ROOT / "constraints.txt",
        *(ROOT / p / "pyproject.toml" for p in SHARED_PACKAGES),
        ROOT / "services" / service / "pyproject.toml",
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_venv(service: str) -> Path:
    """`.venvs/<service>` with the service installed; reinstalls only when inputs changed."""
    venv = VENVS / service
    VENVS.mkdir(exist_ok=True)
    # One installer at a time per venv: two stacks starting at once on one checkout (a test
    # and the bench, say) would otherwise install into the same venv and corrupt it.
    with (VENVS / f"{service}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        install_once(service, venv)
    return venv


def install_once(service: str, venv: Path) -> None:
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    digest = install_inputs_digest(service)
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return
    packages = [*SHARED_PACKAGES, f"services/{service}"]
    editable = [arg for package in packages for arg in ("-e", str(ROOT / package))]
    uv = shutil.which("uv")
    log(f"installing {service} into {venv.relative_to(ROOT)} ({'uv' if uv else 'pip'})")
    if uv:
        run_checked([uv, "venv", "-q", "--allow-existing", "-p", sys.executable, str(venv)])
        install = [uv, "pip", "install", "-q", "--python", str(python)]
    else:
        run_checked([sys.executable, "-m", "venv", str(venv)])
        install = [str(python), "-m", "pip", "install", "-q"]
    run_checked([*install, "-c", str(ROOT / "constraints.txt"), *editable])
    stamp.write_text(digest)


def run_checked(command: Sequence[str]) -> None:
    result = subprocess.run(command, cwd=ROOT, check=False)
    if result.returncode != 0:
        raise StackError(f"command failed ({result.returncode}): {' '.join(command)}")


# --- processes ---------------------------------------------------------------------


def relay_output(name: str, stream: IO[str]) -> None:
    for line in stream:
        sys.stdout.write(f"{name:>9} | {line}")
        sys.stdout.flush()


# Looked up in the parent: between fork and exec the child should do as little as possible.
PRCTL = getattr(ctypes.CDLL(None), "prctl", None)  # Linux only


def die_with_parent() -> None:
    """In the child, before exec: SIGKILL it if this runner dies without stopping it
    (killed with SIGKILL, say), so no service outlives the stack it belonged to."""
    if PRCTL is not None:
        PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)


def gateway_processes() -> int:
    raw = os.environ.get("GATEWAY_PROCESSES") or str(DEFAULT_GATEWAY_PROCESSES)
    if not raw.isdigit() or int(raw) < 1:
        raise StackError(f"GATEWAY_PROCESSES={raw!r}: must be a whole number, at least 1")
    return int(raw)


def process_names(service: str) -> list[str]:
    """``gateway``, ``gateway_2`` ... for the gateway's processes; the service's name otherwise."""
    count = gateway_processes() if service == "gateway" else 1
    return [service, *(f"{service}_{number}" for number in range(2, count + 1))]


def service_output(name: str) -> IO[str] | int:
    """Where a process's output goes: its file under ``DEVSTACK_LOG_DIR``, else a pipe
    relayed to this terminal with the process's name in front."""
    log_dir = os.environ.get("DEVSTACK_LOG_DIR")
    if not log_dir:
        return subprocess.PIPE
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    return (Path(log_dir) / f"{name}.log").open("a")


def start_service(name: str, service: str, venv: Path) -> subprocess.Popen:
    command = [
        str(venv / "bin" / "python"),
        # nameko's CLI imports eventlet, which warns on every start that it is in
        # maintenance mode; the stack's output is for the services' own logs.
        "-W",
        "ignore::Warning:nameko.cli.commands",
        "-m",
        # `nameko run`, without the 12 MB pkg_resources import (service_runtime.serve)
        "service_runtime.serve",
        "run",
        "--config",
        str(ROOT / SERVICES[service].config),
        SERVICES[service].target,
    ]
    # A session of its own: the terminal's Ctrl-C reaches only this script, which
    # then stops the services in order instead of all at once.
    output = service_output(name)
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**SERVICE_ENVIRONMENT, **os.environ},
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )
    if output is subprocess.PIPE:
        threading.Thread(target=relay_output, args=(name, process.stdout), daemon=True).start()
        log(f"started {name} (pid {process.pid})")
    else:
        output.close()  # the child holds its own copy
        log(f"started {name} (pid {process.pid}), output in {output.name}")
    return process


def stop_services(processes: dict[str, subprocess.Popen]) -> None:
    """The gateway first (reverse start order), gracefully; killed if too slow."""
    running = [name for name, process in processes.items() if process.poll() is None]
    if running:
        log(f"stopping {', '.join(reversed(running))}")
    names = {process.pid: name for name, process in processes.items()}
    for killed in stop_all(list(reversed(processes.values())), STOP_GRACE_SECONDS):
        log(f"{names[killed.pid]} did not stop in {STOP_GRACE_SECONDS}s; killed it")


def gateway_url() -> str:
    port = os.environ.get("GATEWAY_PORT", "8000")
    return f"http://127.0.0.1:{port}"


def ready_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(f"{url}/ready", timeout=3) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_until_ready(url: str, processes: dict[str, subprocess.Popen]) -> None:
    def ready() -> bool:
        exited = [name for name, process in processes.items() if process.poll() is not None]
        if exited:
            where = os.environ.get("DEVSTACK_LOG_DIR") or "above"
            names = ", ".join(exited)
            raise StackError(f"exited during start-up: {names} (see its output {where})")
        return ready_status(url) == 200

    try:
        wait_until(ready, READY_TIMEOUT_SECONDS, f"{url}/ready to answer 200")
    except TimeoutError as late:
        raise StackError(str(late)) from None


def ensure_brokers_meanwhile() -> Callable[[], None]:
    """Check RabbitMQ and Redis, starting them where this machine can, on a thread of
    their own: a broker booting (seconds, in a new container) overlaps the venvs'
    installation. The function returned waits for it and raises what it raised."""
    failed: list[Exception] = []

    def ensure() -> None:
        try:
            ensure_broker("RabbitMQ", stack_amqp_uri(), 5672, log)
            ensure_broker("Redis", stack_redis_url(), 6379, log)
        except Exception as error:  # noqa: BLE001 - handed to the main thread as it is
            failed.append(error)

    thread = threading.Thread(target=ensure, name="brokers", daemon=True)
    thread.start()

    def wait() -> None:
        thread.join()
        if failed:
            raise failed[0]

    return wait


class Stop(Exception):
    """Raised by the signal handler to leave the foreground wait."""


def raise_stop(signum: int, frame: object) -> None:
    raise Stop(signal.Signals(signum).name)


def main() -> int:
    processes: dict[str, subprocess.Popen] = {}
    previous = {sig: signal.signal(sig, raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        brokers = ensure_brokers_meanwhile()
        venvs = {service: ensure_venv(service) for service in SERVICES}
        brokers()
        started = time.monotonic()  # start to ready, the venvs' first install apart
        for service in SERVICES:
            for name in process_names(service):
                processes[name] = start_service(name, service, venvs[service])
        url = gateway_url()
        wait_until_ready(url, processes)
        log(f"ready in {time.monotonic() - started:.1f}s: {url}/  (Ctrl-C stops the stack)")
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    raise StackError(f"{name} exited with {process.returncode}")
            time.sleep(0.5)
    except Stop as stop:
        log(f"{stop}: stopping the stack")
        return 0
    except (StackError, Missing) as error:
        log(f"error: {error}")
        return 1
    finally:
        # A second Ctrl-C must not cut the graceful stop short and orphan services.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        stop_services(processes)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
