"""Fixtures: the run's mode and brokers, a vhost and Redis key prefix per test, and
service processes that are killed after each test whatever happened in it.

The test process itself is not eventlet-patched: it drives separate processes and
containers, with plain threads and nameko's standalone RPC proxy.
"""

import os

# testcontainers reads these on import: reach the published ports on loopback, and
# no reaper container (its image needs a registry; the fixtures remove what they start).
for _name, _value in {
    "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
    "TESTCONTAINERS_HOST_OVERRIDE": "localhost",
    "TESTCONTAINERS_RYUK_DISABLED": "true",
}.items():
    os.environ.setdefault(_name, _value)

import logging  # noqa: E402 - after the settings on purpose
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

from integration_tests.brokers import Brokers, brokers_for, choose_mode  # noqa: E402
from integration_tests.processes import IntegrationLauncher  # noqa: E402
from service_testing.isolation import IsolatedEnvironment, isolated_environment  # noqa: E402

# testcontainers' RabbitMQ readiness check connects with pika until the broker
# answers; each refused attempt is logged as an ERROR that means nothing.
logging.getLogger("pika").setLevel(logging.CRITICAL)

MODE = pytest.StashKey[str]()
MEASUREMENTS = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    try:
        config.stash[MODE] = choose_mode()
    except RuntimeError as no_docker_in_ci:
        raise pytest.UsageError(str(no_docker_in_ci)) from None
    config.stash[MEASUREMENTS] = []


def pytest_report_header(config: pytest.Config) -> str:
    return f"integration tests: {config.stash[MODE]} mode"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker: hand this worker's measurements to the controller, which prints them."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["measurements"] = session.config.stash[MEASUREMENTS]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """On the xdist controller: a worker finished; keep its measurements."""
    node.config.stash[MEASUREMENTS].extend(node.workeroutput.get("measurements", []))


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    terminalreporter.section("integration measurements")
    terminalreporter.write_line(f"mode: {config.stash[MODE]}")
    for line in config.stash[MEASUREMENTS]:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def integration_mode(pytestconfig: pytest.Config) -> str:
    return pytestconfig.stash[MODE]


@pytest.fixture(scope="session")
def report(pytestconfig: pytest.Config):
    """Record a measurement line; all of them are printed at the end of the run."""
    return pytestconfig.stash[MEASUREMENTS].append


@pytest.fixture(scope="session")
def brokers(integration_mode: str) -> Iterator[Brokers]:
    with brokers_for(integration_mode) as started:
        yield started


@pytest.fixture
def isolated(brokers: Brokers) -> Iterator[IsolatedEnvironment]:
    """This test's own vhost (its queues start empty: messages a process killed by an
    earlier test left unacknowledged cannot reach it) and Redis key prefix."""
    with isolated_environment(
        "integration", brokers.amqp_uri, brokers.rabbit_api_uri, brokers.redis_url
    ) as environment:
        yield environment


@pytest.fixture
def redis_url(isolated: IsolatedEnvironment) -> str:
    return isolated.redis_url


@pytest.fixture
def amqp_uri(isolated: IsolatedEnvironment) -> str:
    return isolated.amqp_uri


@pytest.fixture
def redis_key_prefix(isolated: IsolatedEnvironment) -> str:
    return isolated.key_prefix


@pytest.fixture
def service_env(isolated: IsolatedEnvironment) -> dict[str, str]:
    return isolated.env()


@pytest.fixture
def services(tmp_path, service_env: dict[str, str]) -> Iterator[IntegrationLauncher]:
    launcher = IntegrationLauncher(tmp_path, service_env)
    try:
        yield launcher
    finally:
        launcher.kill_all()
