"""The one registry of the services: config, class, Redis database and the services each calls.

Standard library only: tools/devstack.py and noxfile.py import this module from the
checkout before any venv exists. Read by devstack (what to start, in order), nox
(which services a service's tests run for real: the ones it calls), the test
launchers and the image builds of the integration tests; compose.yaml's services,
build arguments (which the image's healthcheck runs with) and dependencies, each
config.yaml's Redis database and each class's RPC dependencies are checked against
it by libs/service-testing/tests/test_services_registry.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# This package is installed editable from the checkout (noxfile.py), so the checkout
# is found from here: libs/service-testing/src/service_testing/services.py.
REPO_ROOT = Path(__file__).resolve().parents[4]


@dataclass(frozen=True)
class ServiceSpec:
    config: str  # the config.yaml, relative to a checkout's root
    target: str  # "package.module:ServiceClass" (naming the class keeps nameko off the
    # route mixins a service module imports)
    redis_db: int | None = None  # its database on a shared local Redis (config.yaml default)
    calls: tuple[str, ...] = ()  # the services it calls over RPC (its TimedRpcProxy targets)


# Start order: the gateway last, so its /ready is the only thing left to wait for.
SERVICES: dict[str, ServiceSpec] = {
    "airports": ServiceSpec(
        "services/airports/config.yaml", "airports.service:AirportsService", redis_db=1
    ),
    "trips": ServiceSpec(
        "services/trips/config.yaml", "trips.service:TripsService", redis_db=2, calls=("airports",)
    ),
    "messages": ServiceSpec(
        "services/messages/config.yaml", "messages.service:MessagesService", redis_db=3
    ),
    "gateway": ServiceSpec(
        "services/gateway/config.yaml",
        "gateway.service:GatewayService",
        redis_db=4,  # Idempotency-Key answers, rate-limit buckets
        calls=("airports", "trips", "messages"),
    ),
}
