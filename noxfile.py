"""Developer and CI entry points. `nox` runs every default session; `nox -s up` runs the stack.

Each service is tested in a venv of its own holding that service, the shared
packages (contracts, service-runtime) and test tools (service-testing); the gateway and trips test
venvs also hold the services they call, to run them for real in the tests.
`browser` drives the messenger page in Debian's headless Chromium (apt package
`chromium`) in a pytest process of its own, without eventlet.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

# The test brokers' addresses (TEST_* variables, defaults) have one home; that module
# needs only the standard library, so nox can read it before any venv exists.
sys.path.insert(0, str(Path(__file__).parent / "libs" / "service-testing" / "src"))
from service_testing.local_brokers import local_amqp_uri, local_rabbit_api_uri

nox.options.default_venv_backend = "uv|virtualenv"
# Venvs are reused and the project's packages installed editable, so a warm run
# only re-checks pins; `nox --no-reuse-venv` rebuilds from scratch.
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"
CONSTRAINTS = ("-c", "constraints.txt")
SHARED = ("-e", "./contracts", "-e", "./libs/service-runtime")
# Test support: processes, throwaway vhosts and key prefixes, the service-test fixtures.
TESTING = ("-e", "./libs/service-testing")

AMQP_URI = local_amqp_uri()
RABBIT_API_URI = local_rabbit_api_uri()
NAMEKO_PYTEST_ARGS = (
    "-p",
    "no:pact",  # pact-python's plugin wraps builtins.__import__; not wanted under eventlet
    "--suppress-nameko-eventlet-notification",
    f"--amqp-uri={AMQP_URI}",
    f"--rabbit-ctl-uri={RABBIT_API_URI}",
)

# service -> the other services its tests run for real
SERVICE_TEST_PEERS: dict[str, tuple[str, ...]] = {
    "airports": (),
    "trips": ("airports",),
    "messages": (),
    "gateway": ("airports", "trips", "messages"),
}


def editable(*services: str) -> list[str]:
    args: list[str] = []
    for service in services:
        args += ["-e", f"./services/{service}"]
    return args


def service_tests(service: str) -> None:
    @nox.session(name=f"tests-{service}", python=PYTHON)
    def run(session: nox.Session) -> None:
        session.install(
            *CONSTRAINTS, *SHARED, *TESTING, *editable(service, *SERVICE_TEST_PEERS[service])
        )
        session.run("pytest", f"services/{service}/tests", *NAMEKO_PYTEST_ARGS, *session.posargs)

    run.__doc__ = f"Unit and real-broker tests of the {service} service."


for _service in SERVICE_TEST_PEERS:
    service_tests(_service)


# The pact tests run in a plain pytest process: no eventlet (stack.md, pitfall 9).
CONTRACT_PYTEST_ARGS = (
    "--suppress-nameko-eventlet-notification",
    f"--amqp-uri={AMQP_URI}",
    f"--rabbit-ctl-uri={RABBIT_API_URI}",
)
CONTRACT_PARTIES = ("airports", "trips", "messages", "gateway")


def install_contract_tools(session: nox.Session) -> None:
    session.install(
        *CONSTRAINTS,
        "-e",
        "./contracts[pact]",
        "-e",
        "./libs/service-runtime",
        *TESTING,
        *editable(*CONTRACT_PARTIES),
    )


@nox.session(python=PYTHON)
def contracts(session: nox.Session) -> None:
    """The contract gate: schemas and pacts current, every provider honours every pact
    (current and released consumers), v1/v2 side by side, breaking changes caught."""
    install_contract_tools(session)
    tmp = Path(session.create_tmp())
    regenerated = tmp / "pacts"
    shutil.rmtree(regenerated, ignore_errors=True)
    session.run(
        "pytest", "contracts/tests/consumer", f"--pact-dir={regenerated}", *CONTRACT_PYTEST_ARGS
    )
    session.run("python", "-m", "contracts.pact.freshness", str(regenerated), "contracts/pacts")
    session.run(
        "pytest",
        "contracts/tests",
        "--ignore=contracts/tests/consumer",
        *CONTRACT_PYTEST_ARGS,
        *session.posargs,
        # the side-by-side test's release 1.0.0 venv, rebuilt only when missing
        env={"CONTRACTS_RELEASE_CACHE": str(tmp / "releases")},
    )


@nox.session(python=PYTHON, default=False)
def pacts(session: nox.Session) -> None:
    """Rewrite contracts/pacts/*.json and contracts/schemas/ from the consumer tests and
    models (review the diff, then commit)."""
    install_contract_tools(session)
    session.run("python", "-m", "contracts.schema")
    session.run("pytest", "contracts/tests/consumer", *CONTRACT_PYTEST_ARGS)


@nox.session(python=PYTHON)
def browser(session: nox.Session) -> None:
    """The messenger page in headless Chromium against the services run as subprocesses.

    Needs Debian's chromium (`apt-get install -y chromium`); Playwright from PyPI
    drives it, `playwright install` is never used. Its own pytest process, without
    eventlet (Playwright hangs under it) and without nameko's pytest plugin.
    """
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
        *session.posargs,
        env={"TEST_AMQP_URI": AMQP_URI, "TEST_RABBIT_API_URI": RABBIT_API_URI},
    )


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    session.install(*CONSTRAINTS, "ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def devstack(session: nox.Session) -> None:
    """`nox -s up`'s runner for real: start, walkthrough, SIGTERM, nothing left behind."""
    session.install(*CONSTRAINTS, *TESTING, "pytest")
    session.run("pytest", "tools/tests", *session.posargs)


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Gateway latency and throughput per route, as ratios to a baseline from the same run."""
    session.install(*CONSTRAINTS, *TESTING, "requests")
    session.run("python", "benchmarks/bench_gateway.py", *session.posargs)


@nox.session(python=False, default=False)
def up(session: nox.Session) -> None:
    """Run the whole stack in the foreground (Ctrl-C or SIGTERM stops it); gateway on :8000."""
    # In-process rather than a child of nox: a SIGTERM sent to nox then reaches
    # the code that stops the services, instead of orphaning them.
    sys.path.insert(0, str(Path(__file__).parent / "tools"))
    import devstack

    if devstack.main() != 0:
        session.error("the stack failed; see the output above")


@nox.session(python=PYTHON)
def integration(session: nox.Session) -> None:
    """Services as separate processes and containers against real brokers (docs/operations.md)."""
    session.install(
        *CONSTRAINTS,
        *SHARED,
        *TESTING,
        *editable(*SERVICE_TEST_PEERS),
        "testcontainers[rabbitmq]",
    )
    session.run(
        "pytest", "integration_tests", "-p", "no:pact", "-p", "no:pytest_nameko", *session.posargs
    )


# --- The stack on orchestrators (deploy/) ------------------------------------------------

SWARM_NODES_TOOL = "SWARM_NODES_TOOL"


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


@nox.session(python=PYTHON)
def manifests(session: nox.Session) -> None:
    """deploy/ offline: the Kubernetes manifests against the API schemas (kubernetes-validate)
    and against the project, the swarm stack file against compose.yaml, the images'
    credentials entrypoint."""
    session.install(*CONSTRAINTS, *SHARED, *TESTING, "kubernetes-validate", "pytest")
    session.run("pytest", "deploy/tests", "-p", "no:pytest_nameko", *session.posargs)


@nox.session(python=PYTHON)
def swarm(session: nox.Session) -> None:
    """deploy/swarm/stack.yaml on a real three-machine Docker Swarm: deploy and use, scale,
    rolling upgrade and machine loss under load, everything down at the end.

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
    session.install(*CONSTRAINTS, *SHARED, *TESTING, "pytest", "requests", "testcontainers")
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
        *session.posargs,
    )
