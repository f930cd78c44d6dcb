"""Developer and CI entry points. `nox` runs every default session; `nox -s up` runs the stack.

Each service is tested in a venv of its own holding that service, the shared
packages (contracts, service-runtime) and test tools (service-testing); the gateway and trips test
venvs also hold the services they call, to run them for real in the tests. The
contract tooling (contract-testing: pact, schema export, release rebuilds) is installed
only where the contracts are tested. Every session checks what it needs from the
machine before it installs anything (service_testing.prerequisites).
`browser` drives the messenger page in Debian's headless Chromium (apt package
`chromium`) in a pytest process of its own, without eventlet.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

# The test brokers' addresses (TEST_* variables, defaults), the prerequisite checks and
# CI detection have one home each in service-testing; those modules need only the
# standard library, so nox can read them before any venv exists.
sys.path.insert(0, str(Path(__file__).parent / "libs" / "service-testing" / "src"))
from service_testing.ci import running_in_ci
from service_testing.edge import HAPROXY, INSTALL_HAPROXY
from service_testing.local_brokers import local_amqp_uri, local_rabbit_api_uri, local_redis_url
from service_testing.prerequisites import (
    START_DOCKER,
    Missing,
    docker_engine_answers,
    docker_ready,
    ensure_test_brokers,
    remove_broker_containers,
    require_executable,
)
from service_testing.services import SERVICES

nox.options.default_venv_backend = "uv|virtualenv"
# Venvs are reused and the project's packages installed editable, so a warm run
# only re-checks pins; `nox --no-reuse-venv` rebuilds from scratch.
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True

# `nox` alone (the README's test command) runs PARALLEL_SESSIONS sessions at a time, each
# printed whole when it ends: while one waits on brokers, containers or sockets the others
# use the CPU (CI on a fresh clone, 2 cores: 764 s, against 1,094-1,292 s one at a time).
# `integration` runs alone (its isolation checks must not see another
# session's Docker networks come and go). Naming sessions (`nox -s tests-gateway`) runs
# them one after another with their output live.
PARALLEL_SESSIONS = 3
SELECTING_OPTIONS = ("-s", "--session", "--sessions", "-e", "-k", "--keywords", "-t", "--tags")
if "NOXSESSION" not in os.environ and not any(
    argument.split("=", 1)[0] in SELECTING_OPTIONS for argument in sys.argv[1:]
):
    nox.options.parallel = PARALLEL_SESSIONS
    nox.options.allow_parallel = True

PYTHON = "3.11"
CONSTRAINTS = ("-c", "constraints.txt")
SHARED = ("-e", "./contracts", "-e", "./libs/service-runtime")
# Test support: processes, throwaway vhosts and key prefixes, the service-test fixtures.
TESTING = ("-e", "./libs/service-testing")
# Contract test tooling (pact, schema export, release rebuilds): never in an image.
CONTRACT_TESTING = ("-e", "./libs/contract-testing")

AMQP_URI = local_amqp_uri()
RABBIT_API_URI = local_rabbit_api_uri()


# --- prerequisites: checked before a session installs anything ---------------------
# What a session cannot install into its venv is set up here where it can be (brokers
# started, the management plugin enabled) or stops the session with one line saying
# what is missing and the command that fixes it.

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def require_test_brokers(session: nox.Session) -> None:
    """RabbitMQ with its management API (throwaway vhosts) and Redis."""
    try:
        ensure_test_brokers(AMQP_URI, RABBIT_API_URI, local_redis_url(), session.log)
    except Missing as missing:
        session.error(str(missing))


def require_haproxy(session: nox.Session) -> None:
    """The edge's binary (the Debian package; the tests run deploy/edge/haproxy.cfg with it)."""
    try:
        require_executable(HAPROXY, "HAProxy", INSTALL_HAPROXY)
    except Missing as missing:
        session.error(str(missing))


def require_chromium(session: nox.Session) -> None:
    """Debian's Chromium: CI fails without it; elsewhere the session is skipped, saying so."""
    try:
        require_executable(CHROMIUM, "Chromium", "apt-get install -y chromium")
    except Missing as missing:
        (session.error if running_in_ci() else session.skip)(str(missing))


def require_promtool(session: nox.Session) -> None:
    """promtool on PATH, or Docker to run it from the local prom/prometheus image: CI fails
    without either; elsewhere the session is skipped, saying so."""
    if shutil.which("promtool") is None and not docker_ready():
        message = (
            "promtool not found and no Docker engine answers to run the prom/prometheus "
            "image; install it: apt-get install -y prometheus"
        )
        (session.error if running_in_ci() else session.skip)(message)


def integration_needs(session: nox.Session) -> None:
    """A Docker engine (required in CI); without one, the local brokers (local mode)."""
    if docker_engine_answers():
        return
    if running_in_ci():
        session.error(f"no Docker engine answers; start it: {START_DOCKER}")
    session.log("no Docker engine answers: the integration tests run in local mode")
    require_test_brokers(session)


# --- pytest-timeout: a generous bound per test, so a hang fails instead of blocking CI --


def per_test_timeout(seconds: int) -> str:
    return f"--timeout={seconds}"


NAMEKO_PYTEST_ARGS = (
    "-p",
    "no:pact",  # pact-python's plugin wraps builtins.__import__; not wanted under eventlet
    "--suppress-nameko-eventlet-notification",
    f"--amqp-uri={AMQP_URI}",
    f"--rabbit-ctl-uri={RABBIT_API_URI}",
)

# service -> the other services its tests run for real: the ones it calls (the registry's)
SERVICE_TEST_PEERS: dict[str, tuple[str, ...]] = {
    name: spec.calls for name, spec in SERVICES.items()
}


def editable(*services: str) -> list[str]:
    args: list[str] = []
    for service in services:
        args += ["-e", f"./services/{service}"]
    return args


# --- sessions, longest first ----------------------------------------------------------
# `nox` starts sessions in the order they are defined, PARALLEL_SESSIONS at a time: the
# longest (the swarm, then the devstack) first, so the rest run beside them.

SWARM_NODES_TOOL = "SWARM_NODES_TOOL"


@nox.session(python=PYTHON)
def swarm(session: nox.Session) -> None:
    """deploy/swarm/stack.yaml on a real three-machine Docker Swarm: deploy and use, scale,
    rolling upgrade under load, the loss of the machine holding every Redis primary and queue
    leader under load, its return, everything down at the end.

    Needs a Docker engine and a tool that provides the machines, named by SWARM_NODES_TOOL
    (its interface: deploy/swarm/tests/swarm.py). The swarm exists only while the session runs.
    """
    tool = os.environ.get(SWARM_NODES_TOOL, "")
    if not Path(tool).is_file():
        message = (
            f"the swarm session needs {SWARM_NODES_TOOL}=<a multi-machine swarm tool: "
            "up N | load IMAGE... | crash I | down>, e.g. "
            f"{SWARM_NODES_TOOL}=/path/to/swarm-nodes.sh nox -s swarm"
        )
        if running_in_ci():
            session.error(message)
        session.skip(message)
    # contract-testing: integration_tests.images (which builds the images) imports it.
    session.install(
        *CONSTRAINTS, *SHARED, *TESTING, *CONTRACT_TESTING, "pytest", "requests", "testcontainers"
    )
    # `python -m`: the checkout's root on sys.path, for integration_tests.images.
    session.run(
        "python",
        "-m",
        "pytest",
        "deploy/swarm/tests",
        "-p",
        "no:pact",
        "-p",
        "no:pytest_nameko",
        per_test_timeout(1500),
        *session.posargs,
    )


@nox.session(python=PYTHON)
def devstack(session: nox.Session) -> None:
    """`nox -s up`'s runner for real: start, walkthrough, SIGTERM, nothing left behind."""
    require_test_brokers(session)
    # nox: the fresh-clone test runs `nox -s contracts` in a clone, with no uv on PATH
    session.install(*CONSTRAINTS, *SHARED, *TESTING, "pytest", "pytest-xdist", "nox")
    # a cold start creates a venv per service; the fresh-clone test runs a whole session
    # Two workers: the fresh clone's install and a broker container's boot are mostly
    # waiting (the stacks' venvs are installed one at a time: devstack.ensure_venv).
    session.run("pytest", "tools/tests", "-n", "2", per_test_timeout(1200), *session.posargs)


def service_tests(service: str) -> None:
    @nox.session(name=f"tests-{service}", python=PYTHON)
    def run(session: nox.Session) -> None:
        if service == "gateway":  # its hostile-client cases run through the real edge
            require_haproxy(session)
        require_test_brokers(session)
        session.install(
            *CONSTRAINTS, *SHARED, *TESTING, *editable(service, *SERVICE_TEST_PEERS[service])
        )
        session.run(
            "pytest",
            f"services/{service}/tests",
            *NAMEKO_PYTEST_ARGS,
            per_test_timeout(120),
            *session.posargs,
        )

    run.__doc__ = f"Unit and real-broker tests of the {service} service."


for _service in SERVICE_TEST_PEERS:
    service_tests(_service)


@nox.session(name="tests-libs", python=PYTHON)
def tests_libs(session: nox.Session) -> None:
    """The shared libraries' unit tests; the service registry checked against compose.yaml,
    config.yaml and the classes; README's configuration table current
    (`python -m service_testing.config_table` rewrites it); every package declares what
    it imports (so every package is installed here)."""
    session.install(*CONSTRAINTS, *SHARED, *TESTING, *CONTRACT_TESTING, *editable(*SERVICES))
    session.run(
        "pytest",
        "libs",
        "-p",
        "no:pact",
        "-p",
        "no:pytest_nameko",
        per_test_timeout(120),
        *session.posargs,
    )


# The pact tests run in a plain pytest process: under eventlet the verifier's state
# handlers time out. Their vhosts and key prefixes come from service_testing.isolation.
CONTRACT_PYTEST_ARGS = ("--suppress-nameko-eventlet-notification",)
CONTRACT_PARTIES = ("airports", "trips", "messages", "gateway")


def install_contract_tools(session: nox.Session) -> None:
    session.install(
        *CONSTRAINTS, *SHARED, *TESTING, *CONTRACT_TESTING, *editable(*CONTRACT_PARTIES)
    )


@nox.session(python=PYTHON)
def contracts(session: nox.Session) -> None:
    """The contract gate: schemas and pacts current, every provider honours every pact
    (current and released consumers), v1/v2 side by side, breaking changes caught."""
    require_test_brokers(session)
    install_contract_tools(session)
    tmp = Path(session.create_tmp())
    regenerated = tmp / "pacts"
    shutil.rmtree(regenerated, ignore_errors=True)
    session.run(
        "pytest",
        "contracts/tests/consumer",
        f"--pact-dir={regenerated}",
        *CONTRACT_PYTEST_ARGS,
        per_test_timeout(120),
    )
    session.run(
        "python", "-m", "contract_testing.pact.freshness", str(regenerated), "contracts/pacts"
    )
    session.run(
        "pytest",
        "contracts/tests",
        "--ignore=contracts/tests/consumer",
        *CONTRACT_PYTEST_ARGS,
        # the first test of a module also starts its services; the first side-by-side
        # test rebuilds release 1.0.0
        per_test_timeout(600),
        *session.posargs,
        # the side-by-side test's release 1.0.0 venv, rebuilt only when missing
        env={"CONTRACTS_RELEASE_CACHE": str(tmp / "releases")},
    )


@nox.session(python=PYTHON, default=False)
def pacts(session: nox.Session) -> None:
    """Rewrite contracts/pacts/*.json and contracts/schemas/ from the consumer tests and
    models (review the diff, then commit)."""
    require_test_brokers(session)
    install_contract_tools(session)
    session.run("python", "-m", "contract_testing.schema")
    session.run("pytest", "contracts/tests/consumer", *CONTRACT_PYTEST_ARGS)


@nox.session(python=PYTHON)
def browser(session: nox.Session) -> None:
    """The messenger page in headless Chromium against the services run as subprocesses,
    behind the real edge (Debian's haproxy), the live feed streamed through it.

    Needs Debian's chromium (`apt-get install -y chromium`); Playwright from PyPI
    drives it, `playwright install` is never used. Its own pytest process, without
    eventlet (Playwright hangs under it) and without nameko's pytest plugin.
    """
    require_chromium(session)
    require_haproxy(session)
    require_test_brokers(session)
    session.install(
        *CONSTRAINTS,
        *SHARED,
        *TESTING,
        *editable("gateway", *SERVICE_TEST_PEERS["gateway"]),
        "playwright",
        "requests",
    )
    session.run(
        "pytest",
        "services/gateway/browser_tests",
        "-p",
        "no:pact",
        "-p",
        "no:pytest_nameko",
        per_test_timeout(180),
        *session.posargs,
        env={
            "TEST_AMQP_URI": AMQP_URI,
            "TEST_RABBIT_API_URI": RABBIT_API_URI,
            "CHROMIUM_PATH": CHROMIUM,
        },
    )


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    session.install(*CONSTRAINTS, "ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


# --- benchmarks (benchmarks/README.md) ---------------------------------------------
def install_bench(session: nox.Session) -> None:
    """Every service (the bench writes through their stores), the tutorial baseline's
    nameko-redis, matplotlib for the chart, and py-spy for profiling under the bench's
    load; HAProxy, the edge our stack is measured through."""
    if shutil.which("wrk") is None:
        session.error(
            "the bench drives its load with wrk, which is missing; apt-get install -y wrk"
        )
    require_haproxy(session)
    require_test_brokers(session)
    session.install(
        *CONSTRAINTS,
        *SHARED,
        *TESTING,
        *editable(*SERVICE_TEST_PEERS),
        "nameko-redis",
        "requests",
        "py-spy",
        "matplotlib",
    )


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Our stack through the edge against the Nameko tutorial's design (direct), interleaved
    in one run (about 7 min); a full run rewrites benchmarks/results/, any other run
    writes to the session's tmp directory. `-- --smoke` for tiny counts,
    `-- --only <case> --against-ours KEY=VALUE` for an A/B."""
    install_bench(session)
    scratch = session.create_tmp()
    session.run("python", "benchmarks/bench.py", "--scratch", scratch, *session.posargs)


@nox.session(name="bench-smoke", python=PYTHON)
def bench_smoke(session: nox.Session) -> None:
    """The bench with tiny counts and durations, writing only to the session's tmp
    directory: it fails when a case served nothing, lost a request to a socket error or
    got an answer it should not (no timing asserted)."""
    install_bench(session)
    scratch = session.create_tmp()
    session.run("python", "benchmarks/bench.py", "--smoke", "--scratch", scratch)


@nox.session(python=False, default=False)
def up(session: nox.Session) -> None:
    """Run the whole stack in the foreground (Ctrl-C or SIGTERM stops it); gateway on :8000."""
    # In-process rather than a child of nox: a SIGTERM sent to nox then reaches
    # the code that stops the services, instead of orphaning them.
    sys.path.insert(0, str(Path(__file__).parent / "tools"))
    import devstack

    if devstack.main() != 0:
        session.error("the stack failed; see the output above")


@nox.session(python=False, default=False)
def down(session: nox.Session) -> None:
    """Remove the RabbitMQ and Redis containers `nox -s up` or a test session started on a
    machine without the brokers installed (their data too)."""
    try:
        remove_broker_containers(session.log)
    except Missing as missing:
        session.error(str(missing))


@nox.session(python=PYTHON, allow_parallel=False)
def integration(session: nox.Session) -> None:
    """Services as separate processes and containers against real brokers (docs/operations.md)."""
    integration_needs(session)
    session.install(
        *CONSTRAINTS,
        *SHARED,
        *TESTING,
        *CONTRACT_TESTING,
        *editable(*SERVICE_TEST_PEERS),
        "testcontainers[rabbitmq]",
        "pytest-xdist",
    )
    session.run(
        "pytest",
        "integration_tests",
        "-p",
        "no:pact",
        "-p",
        "no:pytest_nameko",
        # Two workers, whole modules each (what must not overlap takes
        # integration_tests.compose.networks_lock).
        "-n",
        "2",
        "--dist",
        "loadfile",
        # image builds and `compose up --build` run inside the first tests that need them
        per_test_timeout(900),
        *session.posargs,
    )


# The HTTP API's contract, fuzzed: schemathesis against the live gateway and services.
FUZZ_TOOLS = ("schemathesis", "requests", "prometheus-client")


@nox.session(python=PYTHON)
def fuzz(session: nox.Session) -> None:
    """schemathesis against the real gateway and services (every operation of
    /openapi.json, a few hundred cases, bounded in time), and explicit hostile-input
    cases, all through the real edge. Its own pytest process, without eventlet: the
    services run as processes."""
    require_haproxy(session)
    require_test_brokers(session)
    session.install(
        *CONSTRAINTS,
        *SHARED,
        *TESTING,
        *editable("gateway", *SERVICE_TEST_PEERS["gateway"]),
        *FUZZ_TOOLS,
    )
    session.run(
        "pytest",
        "services/gateway/fuzz_tests",
        "-p",
        "no:pact",
        "-p",
        "no:pytest_nameko",
        per_test_timeout(600),
        *session.posargs,
        env={"TEST_AMQP_URI": AMQP_URI, "TEST_RABBIT_API_URI": RABBIT_API_URI},
    )


# --- The stack on orchestrators (deploy/) ------------------------------------------------


@nox.session(python=PYTHON)
def alerts(session: nox.Session) -> None:
    """deploy/prometheus with promtool: `check config`, and `test rules` (every alert fires
    and stays silent where it should); each alert's runbook line in docs/operations.md."""
    require_promtool(session)
    session.install(*CONSTRAINTS, "pytest", "pytest-timeout", "pyyaml")
    session.run("pytest", "deploy/prometheus/tests", per_test_timeout(300), *session.posargs)


@nox.session(python=PYTHON)
def manifests(session: nox.Session) -> None:
    """deploy/ offline: the Kubernetes manifests against the API schemas (kubernetes-validate)
    and against the project, the swarm stack file against compose.yaml, the images'
    credentials entrypoint."""
    session.install(*CONSTRAINTS, *SHARED, *TESTING, "kubernetes-validate", "pytest")
    session.run(
        "pytest", "deploy/tests", "-p", "no:pytest_nameko", per_test_timeout(120), *session.posargs
    )
