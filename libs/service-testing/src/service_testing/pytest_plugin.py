"""pytest fixtures for testing a service against the real RabbitMQ and Redis.

Loaded automatically (a ``pytest11`` entry point) wherever service-testing is
installed. Imports of nameko and redis happen inside fixtures: the test's conftest
applies eventlet's monkey-patch first, and importing them before that breaks it.

Isolation: nameko's ``rabbit_config`` gives each test its own vhost; ``service_config``
adds a Redis key prefix unique to the test, and only keys under that prefix are
deleted afterwards, so a test never removes data it did not create.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from service_testing.local_brokers import local_redis_url
from service_testing.redis_keys import deleting_keys, new_key_prefix
from service_testing.services import SERVICES


@pytest.fixture
def redis_url() -> str:
    """The Redis database tests write to (``TEST_REDIS_URL``, default db 15)."""
    return local_redis_url()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Any]:
    """A client of the tests' Redis database (strings decoded), closed after the test."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def redis_key_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix unique to this test; its keys are deleted after the test."""
    with deleting_keys(redis_url, new_key_prefix("service")) as prefix:
        yield prefix


@pytest.fixture
def service_config(
    rabbit_config: dict[str, Any], redis_url: str, redis_key_prefix: str
) -> dict[str, Any]:
    """Config for a service under test: its own vhost and its own Redis key prefix."""
    return {
        **rabbit_config,
        # nameko-redis's mapping: whichever service runs, its entry is the test database.
        "REDIS_URIS": dict.fromkeys(SERVICES, redis_url),
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
