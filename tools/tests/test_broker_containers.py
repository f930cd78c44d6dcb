"""`nox -s up` on a machine with Docker but without RabbitMQ and Redis installed: the
brokers run as this project's containers, the next run reuses them, `nox -s down`
removes them (service_testing.broker_containers).

The run's PATH holds only what it needs (Python, nox, docker), so the brokers'
commands cannot be found even where they are installed; the brokers' addresses point
at free ports, so the machine's own brokers are neither used nor touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from devstack import ensure_venv
from isolated_stack import running_stack

from service_testing.broker_containers import LABEL, inspect
from service_testing.ci import running_in_ci
from service_testing.ports import free_port
from service_testing.prerequisites import docker_ready
from service_testing.services import REPO_ROOT, SERVICES

NOX = Path(sys.executable).parent / "nox"
BROKER_COMMANDS = ("rabbitmq-server", "rabbitmqctl", "redis-server")


def only_what_the_run_needs(bin_dir: Path) -> str:
    """A PATH with python, nox and docker, and no broker command."""
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    (bin_dir / "nox").symlink_to(NOX)
    (bin_dir / "docker").symlink_to(shutil.which("docker"))
    path = str(bin_dir)
    assert not [command for command in BROKER_COMMANDS if shutil.which(command, path=path)]
    return path


@pytest.fixture
def machine_without_brokers(tmp_path) -> Iterator[tuple[dict[str, str], list[str]]]:
    """The runner's environment and the names of the containers it should use; those
    containers are removed at the end whatever happened."""
    if not docker_ready():
        message = "needs a Docker engine and the docker command"
        pytest.fail(message) if running_in_ci() else pytest.skip(message)
    amqp, rabbit_api, redis, gateway = (free_port() for _ in range(4))
    env = {
        **os.environ,
        "PATH": only_what_the_run_needs(tmp_path / "bin"),
        "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:{amqp}/",
        "TEST_AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:{amqp}/",
        "TEST_RABBIT_API_URI": f"http://guest:guest@127.0.0.1:{rabbit_api}",
        "REDIS_URL": f"redis://127.0.0.1:{redis}/0",
        "TEST_REDIS_URL": f"redis://127.0.0.1:{redis}/15",
        "GATEWAY_PORT": str(gateway),
    }
    names = [f"travel-rabbitmq-{amqp}", f"travel-redis-{redis}"]
    # The services' venvs first, with this run's own PATH (uv): what is shown here is the
    # brokers; four venvs built by pip within the stack's start could outlast its bound on
    # a busy machine (test_devstack shows a cold start).
    for service in SERVICES:
        ensure_venv(service)
    try:
        yield env, names
    finally:
        subprocess.run(["docker", "rm", "--force", "--volumes", *names], capture_output=True)


def post_airport(url: str, name: str) -> str:
    request = urllib.request.Request(
        f"{url}/airport",
        data=json.dumps({"airport": name}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        assert response.status == 201
        return json.load(response)["id"]


def airport_status(url: str, airport_id: str) -> int:
    with urllib.request.urlopen(f"{url}/airport/{airport_id}", timeout=15) as response:
        return response.status


def container_ids(names: list[str]) -> dict[str, str]:
    found = {}
    for name in names:
        details = inspect(name)
        assert details is not None, f"no container {name}"
        assert details["State"]["Running"], name
        assert details["Config"]["Labels"][LABEL] in ("rabbitmq", "redis"), name
        found[name] = details["Id"]
    return found


def test_up_runs_the_brokers_in_containers_reuses_them_and_down_removes_them(
    machine_without_brokers,
):
    env, names = machine_without_brokers

    with running_stack(env) as first:
        lisbon = post_airport(first.url, "Lisbon")
        assert first.stop() == 0
    said = "".join(first.output)
    for name in names:
        assert f"starting it in a container: {name}" in said, said
    created = container_ids(names)
    # They outlive the stack; stopped (a reboot, say), the next run starts them again.
    subprocess.run(["docker", "stop", *names], capture_output=True, timeout=120, check=True)

    with running_stack(env) as second:
        # The same Redis, data included.
        assert airport_status(second.url, lisbon) == 200
        assert second.stop() == 0
    said = "".join(second.output)
    assert "starting it in a container" not in said
    for name in names:
        assert f"starting this project's container {name} again" in said, said
    assert container_ids(names) == created

    down = subprocess.run(
        ["nox", "-f", str(REPO_ROOT / "noxfile.py"), "-s", "down"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert down.returncode == 0, down.stderr
    assert f"removed {', '.join(names)}" in down.stderr
    assert [name for name in names if inspect(name) is not None] == []
