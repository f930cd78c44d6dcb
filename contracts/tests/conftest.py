"""Pact tests: plain pytest, never eventlet (under eventlet's monkey-patching the pact
verifier's provider-state handlers time out)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from checkout import PACT_DIR

from contracts.releases import ReleaseBuild, build
from service_testing.local_brokers import local_redis_url
from service_testing.redis_keys import deleting_keys

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
# A directory where release builds are kept between runs (nox sets it).
RELEASE_CACHE_ENV = "CONTRACTS_RELEASE_CACHE"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--pact-dir",
        default=str(PACT_DIR),
        help="where consumer tests write pact files (the gate writes to a temp dir and compares)",
    )


@pytest.fixture(scope="session")
def pact_dir(request: pytest.FixtureRequest) -> Path:
    return Path(request.config.getoption("--pact-dir"))


@pytest.fixture(scope="module")
def module_redis_url() -> str:
    """The tests' Redis database (as service_testing's ``redis_url``), module-wide."""
    return local_redis_url()


@pytest.fixture(scope="module")
def module_amqp_uri(request: pytest.FixtureRequest, vhost_pipeline: Any) -> Iterator[str]:
    """A throwaway vhost (nameko's pipeline) shared by one test module, so its
    service processes start once, not once per test."""
    uri = urlsplit(request.config.getoption("RABBIT_AMQP_URI"))
    with vhost_pipeline.get() as vhost:
        yield f"{uri.scheme}://{uri.netloc}/{vhost}"


@pytest.fixture(scope="module")
def module_key_prefix(module_redis_url: str) -> Iterator[str]:
    """A Redis key prefix for one module's service processes, deleted after it.

    No colons: release 1.0.0's config.yaml (run by the side-by-side test) reads
    ``${REDIS_KEY_PREFIX:}`` as YAML, where a value ending in ":" turns into a
    mapping (service_testing's ``redis_key_prefix`` does end in one)."""
    with deleting_keys(module_redis_url, f"contracts-{uuid.uuid4().hex}-") as prefix:
        yield prefix


@pytest.fixture(scope="module")
def service_env(
    module_amqp_uri: str, module_redis_url: str, module_key_prefix: str
) -> dict[str, str]:
    """Environment for the services' config.yaml: the module's vhost and Redis prefix."""
    return {
        "AMQP_URI": module_amqp_uri,
        "REDIS_URL": module_redis_url,
        "REDIS_KEY_PREFIX": module_key_prefix,
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture(scope="session")
def release_1_0_0(tmp_path_factory: pytest.TempPathFactory) -> ReleaseBuild:
    """Release 1.0.0 (airports v1 only, gateway calling v1) rebuilt from its git commit."""
    cache = os.environ.get(RELEASE_CACHE_ENV)
    return build("1.0.0", Path(cache) if cache else tmp_path_factory.mktemp("releases"))
