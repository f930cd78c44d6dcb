"""RabbitMQ and Redis as this project's containers, for a machine with a Docker engine
but without the brokers installed (``nox -s up`` and the test sessions start them
through ``service_testing.prerequisites``).

Each broker runs from its upstream image, published on the loopback port its address
names (RabbitMQ's management API too: the tests make their vhosts through it), in a
container named after the broker and that port (``travel-rabbitmq-5672``) and labelled
``LABEL``. The next run finds it by that name and reuses it, started again if it was
stopped; ``nox -s down`` removes it. Its data lives in the container: it survives
stopping and starting, not removal.

Standard library only (it drives the ``docker`` CLI): nox and tools/devstack.py use it
before any venv exists.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

LABEL = "org.nameko-travel.broker"
RABBITMQ_IMAGE = "rabbitmq:3-management"
REDIS_IMAGE = "redis:7"
AMQP_CONTAINER_PORT = 5672
RABBIT_API_CONTAINER_PORT = 15672
REDIS_CONTAINER_PORT = 6379
# Creating a container may first pull its image.
DOCKER_COMMAND_SECONDS = 600
PROBE_SECONDS = 2.0
# What AMQP 0-9-1 clients send first; a broker answers with its Connection.Start frame.
AMQP_PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"

Log = Callable[[str], None]


class ContainerError(RuntimeError):
    """A docker command failed, or a container of that name is not the one wanted;
    the message is one line."""


def replies_to(host: str, port: int, greeting: bytes) -> bytes:
    """The first bytes a server on ``host:port`` answers ``greeting`` with (b"": none).

    A TCP connection alone proves nothing here: Docker's userland proxy accepts
    connections on a published port before the process in the container listens."""
    try:
        with socket.create_connection((host, port), timeout=PROBE_SECONDS) as connection:
            connection.sendall(greeting)
            return connection.recv(16)
    except OSError:
        return b""


def speaks_amqp(host: str, port: int) -> bool:
    return replies_to(host, port, AMQP_PROTOCOL_HEADER).startswith(b"\x01")  # a method frame


def speaks_redis(host: str, port: int) -> bool:
    return replies_to(host, port, b"PING\r\n").startswith(b"+PONG")


@dataclass(frozen=True)
class BrokerContainer:
    broker: str  # "RabbitMQ" or "Redis", as the prerequisites name them
    image: str
    ports: tuple[tuple[int, int], ...]  # (loopback port, container port), the broker's own first
    ready: Callable[[], bool]  # the broker in it serves on the published ports

    @property
    def name(self) -> str:
        return f"travel-{self.broker.lower()}-{self.ports[0][0]}"

    @property
    def where(self) -> str:
        return ", ".join(f"127.0.0.1:{host}" for host, _ in self.ports)


def rabbitmq_container(
    amqp_port: int, api_port: int, api_answers: Callable[[], bool]
) -> BrokerContainer:
    return BrokerContainer(
        "RabbitMQ",
        RABBITMQ_IMAGE,
        ((amqp_port, AMQP_CONTAINER_PORT), (api_port, RABBIT_API_CONTAINER_PORT)),
        lambda: speaks_amqp("127.0.0.1", amqp_port) and api_answers(),
    )


def redis_container(port: int) -> BrokerContainer:
    return BrokerContainer(
        "Redis",
        REDIS_IMAGE,
        ((port, REDIS_CONTAINER_PORT),),
        lambda: speaks_redis("127.0.0.1", port),
    )


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=True,
        timeout=DOCKER_COMMAND_SECONDS,
        check=False,
    )


def checked_docker(*args: str) -> str:
    done = docker(*args)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise ContainerError(
            f"docker {args[0]} failed: {said[-1] if said else f'exit {done.returncode}'}"
        )
    return done.stdout


def inspect(name: str) -> dict | None:
    """``docker inspect`` of the container ``name``; None when there is none."""
    done = docker("container", "inspect", name)
    return json.loads(done.stdout)[0] if done.returncode == 0 else None


def published_ports(details: dict) -> set[tuple[int, int]]:
    bindings = details["HostConfig"]["PortBindings"] or {}
    return {
        (int(binding["HostPort"]), int(port.split("/")[0]))
        for port, hosts in bindings.items()
        for binding in hosts or ()
    }


def start_or_reuse(container: BrokerContainer, log: Log) -> None:
    """The container runs (created, or started again if it was stopped); it may still
    be starting its broker: wait for ``container.ready``."""
    details = inspect(container.name)
    if details is None:
        log(
            f"{container.broker} is not installed here; starting it in a container: "
            f"{container.name} ({container.image}) on {container.where}; "
            f"`nox -s down` removes it"
        )
        publish = [f"--publish=127.0.0.1:{host}:{port}" for host, port in container.ports]
        checked_docker(
            "run", "--detach", f"--name={container.name}",
            f"--label={LABEL}={container.broker.lower()}", *publish, container.image,
        )  # fmt: skip
        return
    if details["Config"]["Labels"].get(LABEL) != container.broker.lower():
        raise ContainerError(
            f"a container named {container.name} exists but is not this project's "
            f"{container.broker}; remove or rename it (docker rm -f {container.name})"
        )
    if published_ports(details) != set(container.ports):
        raise ContainerError(
            f"the container {container.name} publishes other ports than {container.where}; "
            f"remove it (nox -s down) and run again"
        )
    if not details["State"]["Running"]:
        log(f"{container.broker}: starting this project's container {container.name} again")
        checked_docker("start", container.name)


def remove(containers: list[BrokerContainer], log: Log) -> None:
    """Remove each of ``containers`` that exists and is this project's (its data too)."""
    removed = []
    for container in {container.name: container for container in containers}.values():
        details = inspect(container.name)
        if details is not None and details["Config"]["Labels"].get(LABEL):
            checked_docker("rm", "--force", "--volumes", container.name)
            removed.append(container.name)
    log(f"removed {', '.join(removed)}" if removed else "no broker container of this project")
