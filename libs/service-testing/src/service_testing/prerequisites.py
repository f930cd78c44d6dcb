"""What the sessions and the devstack need from the machine, checked before they start.

What can be set up from here is set up, the way an operator would: RabbitMQ or Redis
installed here but down are started; not installed, they run as this project's
containers when a Docker engine answers (``service_testing.broker_containers``); the
RabbitMQ management plugin (the test fixtures create their throwaway vhosts through
its API) is enabled. What cannot (Chromium, a Docker engine, a remote broker) raises
``Missing``, whose message is one line: what is missing and the command that fixes it.

Standard library only: noxfile.py and tools/devstack.py use it before any venv exists.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from service_testing.broker_containers import (
    RABBIT_API_CONTAINER_PORT,
    BrokerContainer,
    ContainerError,
    rabbitmq_container,
    redis_container,
    remove,
    start_or_reuse,
)
from service_testing.local_brokers import (
    local_amqp_uri,
    local_rabbit_api_uri,
    local_redis_url,
    stack_amqp_uri,
    stack_redis_url,
)
from service_testing.waiting import wait_until

BROKER_START_SECONDS = 60
# A container's broker boots in seconds (RabbitMQ ~10 s), slower on a busy machine.
BROKER_CONTAINER_START_SECONDS = 120
MANAGEMENT_API_START_SECONDS = 60
ENABLE_PLUGIN = ("rabbitmq-plugins", "enable", "rabbitmq_management")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"
START_DOCKER = "systemctl start docker (or: dockerd &)"

Log = Callable[[str], None]


class Missing(RuntimeError):
    """A prerequisite is missing and cannot be set up from here; the message is one
    line saying what is missing and the command that fixes it."""


# How this machine's brokers are started when they are installed but down, on ``port``.
def start_commands(broker: str, port: int) -> list[list[str]]:
    if broker == "RabbitMQ":  # its port is in its own configuration
        return [["rabbitmq-server", "-detached"], ["rabbitmqctl", "await_startup"]]
    return [
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
    ]


INSTALL_COMMANDS = {
    "RabbitMQ": "apt-get install -y rabbitmq-server",
    "Redis": "apt-get install -y redis-server",
}


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """Something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def docker_ready() -> bool:
    """The ``docker`` command is here and its engine answers."""
    return shutil.which("docker") is not None and docker_engine_answers()


def ensure_broker(name: str, url: str, default_port: int, log: Log) -> None:
    """The broker ``name`` ("RabbitMQ" or "Redis") answers at ``url``. A local one that
    does not is started: installed here, as this machine starts it; else, when a Docker
    engine answers, as this project's container (created once, reused after)."""
    parsed = urlsplit(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    if answers(host, port):
        log(f"{name} answers on {host}:{port}")
        return
    if host not in LOCAL_HOSTS:
        raise Missing(
            f"{name} does not answer on {host}:{port}; start it there "
            f"or point the URL at a running one"
        )
    commands = start_commands(name, port)
    if shutil.which(commands[0][0]) is not None:
        start_installed(name, host, port, commands, log)
    elif docker_ready():
        start_container(broker_container(name, port), log)
    else:
        raise Missing(
            f"{name} does not answer on {host}:{port} and is not installed here; install it: "
            f"{INSTALL_COMMANDS[name]}, or start a Docker engine to have it run in a "
            f"container: {START_DOCKER}"
        )


def start_installed(name: str, host: str, port: int, commands: list[list[str]], log: Log) -> None:
    start = " ".join(commands[0])
    log(f"{name} is down; starting it: {start}")
    for command in commands:
        subprocess.run(command, check=False, stdout=subprocess.DEVNULL, timeout=120)
    try:
        wait_until(lambda: answers(host, port), BROKER_START_SECONDS, f"{name} on {host}:{port}")
    except TimeoutError:
        raise Missing(f"{name} did not come up on {host}:{port} after: {start}") from None


def broker_container(name: str, port: int) -> BrokerContainer:
    """The container of broker ``name`` on loopback ``port``. RabbitMQ's publishes its
    management API too, where the tests look for it (``local_rabbit_api_uri``)."""
    if name == "Redis":
        return redis_container(port)
    api_uri = local_rabbit_api_uri()
    return rabbitmq_container(
        port,
        urlsplit(api_uri).port or RABBIT_API_CONTAINER_PORT,
        lambda: management_api_status(api_uri) == 200,
    )


def start_container(container: BrokerContainer, log: Log) -> None:
    try:
        start_or_reuse(container, log)
        wait_until(container.ready, BROKER_CONTAINER_START_SECONDS, container.name)
    except ContainerError as failed:
        raise Missing(str(failed)) from None
    except TimeoutError:
        raise Missing(
            f"{container.broker} did not come up in the container {container.name} "
            f"within {BROKER_CONTAINER_START_SECONDS} s; see: docker logs {container.name}"
        ) from None
    log(f"{container.broker} answers in the container {container.name} on {container.where}")


def remove_broker_containers(log: Log) -> None:
    """``nox -s down``: remove the broker containers this project started for the
    stack's and the tests' addresses (as set now; by default the usual ports)."""
    if not docker_ready():
        raise Missing(f"no Docker engine answers, so no container to remove ({START_DOCKER})")
    rabbitmq_ports = {urlsplit(uri).port or 5672 for uri in (stack_amqp_uri(), local_amqp_uri())}
    redis_ports = {urlsplit(url).port or 6379 for url in (stack_redis_url(), local_redis_url())}
    try:
        remove(
            [broker_container("RabbitMQ", port) for port in sorted(rabbitmq_ports)]
            + [broker_container("Redis", port) for port in sorted(redis_ports)],
            log,
        )
    except ContainerError as failed:
        raise Missing(str(failed)) from None


def management_api_status(api_uri: str) -> int | None:
    """HTTP status of the management API's overview (None: nothing answers)."""
    parts = urlsplit(api_uri)
    address = f"{parts.hostname}:{parts.port or 15672}"
    request = urllib.request.Request(f"{parts.scheme}://{address}/api/overview")
    if parts.username:
        token = base64.b64encode(f"{parts.username}:{parts.password or ''}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def ensure_management_api(api_uri: str, log: Log) -> None:
    """RabbitMQ's management API answers at ``api_uri``; where it does not and the
    broker is local, the plugin is enabled (``rabbitmq-plugins``, needs root) first."""
    parts = urlsplit(api_uri)
    where = f"{parts.hostname}:{parts.port or 15672}"
    fix = " ".join(ENABLE_PLUGIN)
    status = management_api_status(api_uri)
    if status == 200:
        return
    if status is not None:
        raise Missing(
            f"the RabbitMQ management API at {where} answered {status} to the test user "
            f"{parts.username!r}; give that user the administrator tag (rabbitmqctl set_user_tags)"
        )
    if parts.hostname not in LOCAL_HOSTS or shutil.which(ENABLE_PLUGIN[0]) is None:
        raise Missing(f"the RabbitMQ management API does not answer at {where}; enable it: {fix}")
    log(f"the RabbitMQ management API does not answer at {where}; enabling it: {fix}")
    enabled = subprocess.run(ENABLE_PLUGIN, capture_output=True, text=True, timeout=120)
    if enabled.returncode != 0:
        said = (enabled.stderr or enabled.stdout).strip().splitlines()
        raise Missing(
            f"the RabbitMQ management API does not answer at {where} and `{fix}` failed here "
            f"({said[-1] if said else f'exit {enabled.returncode}'}); run it as root"
        )
    try:
        wait_until(
            lambda: management_api_status(api_uri) == 200,
            MANAGEMENT_API_START_SECONDS,
            f"the RabbitMQ management API at {where}",
        )
    except TimeoutError:
        raise Missing(
            f"the RabbitMQ management API did not answer at {where} after `{fix}`"
        ) from None


def ensure_test_brokers(amqp_uri: str, rabbit_api_uri: str, redis_url: str, log: Log) -> None:
    """RabbitMQ with its management API (throwaway vhosts) and Redis, for the tests."""
    ensure_broker("RabbitMQ", amqp_uri, 5672, log)
    ensure_management_api(rabbit_api_uri, log)
    ensure_broker("Redis", redis_url, 6379, log)


def require_executable(path: str, what: str, install: str) -> None:
    """``path`` is an executable file; else ``Missing`` naming ``install``."""
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        raise Missing(f"{what} not found at {path}; install it: {install}")


def docker_engine_answers(timeout: float = 5.0) -> bool:
    """A Docker engine answers ``GET /_ping`` on ``DOCKER_HOST`` (or the default socket)."""
    host = os.environ.get("DOCKER_HOST", f"unix://{DEFAULT_DOCKER_SOCKET}")
    parts = urlsplit(host)
    try:
        if parts.scheme == "unix":
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            connection.settimeout(timeout)
            connection.connect(parts.path)
        else:
            connection = socket.create_connection((parts.hostname, parts.port or 2375), timeout)
        with connection:
            connection.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return connection.recv(64).split(b" ")[1:2] == [b"200"]
    except OSError:
        return False
