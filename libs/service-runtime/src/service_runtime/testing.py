"""pytest fixtures for testing a service against the real RabbitMQ and Redis.

Loaded automatically (a ``pytest11`` entry point) wherever service-runtime is
installed. Imports happen inside fixtures: the test's conftest applies eventlet's
monkey-patch first, and importing nameko or redis before that breaks it.

Isolation: nameko's ``rabbit_config`` gives each test its own vhost; ``service_config``
adds a Redis key prefix unique to the test, and only keys under that prefix are
deleted afterwards, so a test never removes data it did not create.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

TEST_REDIS_URL_ENV = "TEST_REDIS_URL"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_url() -> str:
    """The Redis database tests write to (``TEST_REDIS_URL``, default db 15)."""
    return os.environ.get(TEST_REDIS_URL_ENV, DEFAULT_TEST_REDIS_URL)


@pytest.fixture
def redis_key_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix unique to this test; its keys are deleted after the test."""
    prefix = f"test:{uuid.uuid4().hex}:"
    yield prefix
    delete_keys_with_prefix(redis_url, prefix)


def delete_keys_with_prefix(redis_url: str, prefix: str) -> None:
    """Delete every key under ``prefix`` (a test's own data, never anyone else's)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def service_config(
    rabbit_config: dict[str, Any], redis_url: str, redis_key_prefix: str
) -> dict[str, Any]:
    """Config for a service under test: its own vhost and its own Redis key prefix."""
    return {
        **rabbit_config,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": redis_key_prefix,
        "RPC_TIMEOUT_SECONDS": 5,
    }


@pytest.fixture
def http_session(web_config: dict[str, Any]) -> Iterator[Any]:
    """A requests session bound to the test web server (nameko's ``web_session``
    imports a name Werkzeug 3 removed)."""
    from urllib.parse import urljoin

    from nameko.constants import WEB_SERVER_CONFIG_KEY
    from requests import Session

    base = f"http://{web_config[WEB_SERVER_CONFIG_KEY]}/"

    class BoundSession(Session):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", 30)
            return super().request(method, urljoin(base, url), *args, **kwargs)

    with BoundSession() as session:
        yield session
