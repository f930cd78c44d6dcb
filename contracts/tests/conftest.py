"""Pact tests: plain pytest, never eventlet (under eventlet's monkey-patching the pact
verifier's provider-state handlers time out)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from checkout import PACT_DIR

from contract_testing.releases import ReleaseBuild, build
from service_testing.isolation import IsolatedEnvironment, isolated_environment

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
def isolated() -> Iterator[IsolatedEnvironment]:
    """A throwaway vhost and Redis key prefix shared by one test module, so its
    service processes start once, not once per test."""
    with isolated_environment("contracts") as environment:
        yield environment


@pytest.fixture(scope="module")
def module_amqp_uri(isolated: IsolatedEnvironment) -> str:
    return isolated.amqp_uri


@pytest.fixture(scope="module")
def module_redis_url(isolated: IsolatedEnvironment) -> str:
    return isolated.redis_url


@pytest.fixture(scope="module")
def module_key_prefix(isolated: IsolatedEnvironment) -> str:
    return isolated.key_prefix


@pytest.fixture(scope="module")
def service_env(isolated: IsolatedEnvironment) -> dict[str, str]:
    """Environment for the services' config.yaml: the module's vhost and Redis prefix."""
    return isolated.env(LOG_LEVEL="INFO")


@pytest.fixture(scope="session")
def release_1_0_0(tmp_path_factory: pytest.TempPathFactory) -> ReleaseBuild:
    """Release 1.0.0 (airports v1 only, gateway calling v1) rebuilt from its git commit."""
    cache = os.environ.get(RELEASE_CACHE_ENV)
    return build("1.0.0", Path(cache) if cache else tmp_path_factory.mktemp("releases"))
