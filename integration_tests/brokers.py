"""Where the integration tests get RabbitMQ and Redis: containers, or the local brokers.

Import after the testcontainers settings are in the environment (conftest.py does).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import docker
from amqp.exceptions import NotFound
from kombu import Connection
from testcontainers.community.rabbitmq import RabbitMqContainer
from testcontainers.community.redis import RedisContainer

from service_testing.ci import running_in_ci
from service_testing.local_brokers import local_amqp_uri, local_rabbit_api_uri, local_redis_url
from service_testing.prerequisites import START_DOCKER

DOCKER_MODE = "docker"
LOCAL_MODE = "local"

# Upstream names; without registry access, local images of these names must exist.
RABBITMQ_IMAGE = "rabbitmq:3-management"
REDIS_IMAGE = "redis:7"
RABBIT_API_PORT = 15672


@dataclass(frozen=True)
class Brokers:
    """Where this run's RabbitMQ (AMQP and management API) and Redis database are.

    Tests never use ``amqp_uri``'s vhost itself: each gets its own (conftest's ``isolated``).
    """

    amqp_uri: str
    rabbit_api_uri: str
    redis_url: str


def docker_answers() -> bool:
    """True when a Docker engine answers a ping within a few seconds."""
    try:
        client = docker.from_env(timeout=5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - no engine, no socket, no permission: all mean "no"
        return False


def choose_mode() -> str:
    """Docker mode when an engine answers; local mode otherwise, except in CI."""
    if docker_answers():
        return DOCKER_MODE
    if running_in_ci():
        raise RuntimeError(
            "CI must run the integration tests in Docker mode, but no Docker engine answers "
            f"(start it: {START_DOCKER})"
        )
    return LOCAL_MODE


@contextmanager
def docker_brokers() -> Iterator[Brokers]:
    """RabbitMQ and Redis containers, removed on exit (also when a test failed)."""
    rabbit = RabbitMqContainer(RABBITMQ_IMAGE).with_exposed_ports(RABBIT_API_PORT)
    with rabbit, RedisContainer(REDIS_IMAGE) as redis:
        host = rabbit.get_container_host_ip()
        yield Brokers(
            amqp_uri=f"pyamqp://guest:guest@{host}:{rabbit.get_exposed_port(rabbit.port)}/",
            rabbit_api_uri=f"http://guest:guest@{host}:{rabbit.get_exposed_port(RABBIT_API_PORT)}",
            redis_url=f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0",
        )


@contextmanager
def local_brokers() -> Iterator[Brokers]:
    """The local brokers from the environment; tests isolate themselves in them."""
    yield Brokers(
        amqp_uri=local_amqp_uri(),
        rabbit_api_uri=local_rabbit_api_uri(),
        redis_url=local_redis_url(),
    )


def brokers_for(mode: str) -> AbstractContextManager[Brokers]:
    return docker_brokers() if mode == DOCKER_MODE else local_brokers()


def rpc_consumers(amqp_uri: str, service: str) -> int:
    """How many consumers the broker has on ``service``'s RPC queue (0 before it exists)."""
    with Connection(amqp_uri) as connection:
        try:
            declared = connection.default_channel.queue_declare(
                queue=f"rpc-{service}", passive=True
            )
        except NotFound:
            return 0
        return declared.consumer_count
