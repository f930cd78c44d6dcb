"""Where the local RabbitMQ and Redis are: the stack's (``nox -s up``: the variables the
services' config.yaml read) and the shared ones the tests isolate themselves in (the
``TEST_*`` variables, as CI and the integration tests' local mode set them). Unset, all
are the usual loopback ports."""

from __future__ import annotations

import os

DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"
DEFAULT_RABBIT_API_URI = "http://guest:guest@127.0.0.1:15672"
TEST_REDIS_URL_ENV = "TEST_REDIS_URL"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
DEFAULT_STACK_REDIS_URL = "redis://127.0.0.1:6379"


def local_amqp_uri() -> str:
    return os.environ.get("TEST_AMQP_URI", DEFAULT_AMQP_URI)


def local_rabbit_api_uri() -> str:
    """RabbitMQ's management API (the tests' vhosts; a RabbitMQ container publishes it here)."""
    return os.environ.get("TEST_RABBIT_API_URI", DEFAULT_RABBIT_API_URI)


def local_redis_url() -> str:
    """The Redis database tests write to (``TEST_REDIS_URL``, default db 15)."""
    return os.environ.get(TEST_REDIS_URL_ENV, DEFAULT_TEST_REDIS_URL)


def stack_amqp_uri() -> str:
    """The RabbitMQ ``nox -s up`` runs the services against."""
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def stack_redis_url() -> str:
    """The Redis ``nox -s up`` runs the services against (each its own database, unless
    ``REDIS_URL`` names one for all)."""
    return os.environ.get("REDIS_URL", DEFAULT_STACK_REDIS_URL)
