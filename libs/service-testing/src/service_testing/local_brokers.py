"""The shared local RabbitMQ and Redis the tests isolate themselves in (overridable
through the environment, as CI and the integration tests' local mode do)."""

from __future__ import annotations

import os

DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"
DEFAULT_RABBIT_API_URI = "http://guest:guest@127.0.0.1:15672"
TEST_REDIS_URL_ENV = "TEST_REDIS_URL"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"


def local_amqp_uri() -> str:
    return os.environ.get("TEST_AMQP_URI", DEFAULT_AMQP_URI)


def local_rabbit_api_uri() -> str:
    return os.environ.get("TEST_RABBIT_API_URI", DEFAULT_RABBIT_API_URI)


def local_redis_url() -> str:
    """The Redis database tests write to (``TEST_REDIS_URL``, default db 15)."""
    return os.environ.get(TEST_REDIS_URL_ENV, DEFAULT_TEST_REDIS_URL)
