"""The one registry of the services: where each one's config is and what ``nameko run`` serves.

Standard library only: tools/devstack.py imports this module from the checkout
before any venv exists. compose.yaml names the same classes for the images.
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


# Start order: the gateway last, so its /ready is the only thing left to wait for.
SERVICES: dict[str, ServiceSpec] = {
    "airports": ServiceSpec("services/airports/config.yaml", "airports.service:AirportsService"),
    "trips": ServiceSpec("services/trips/config.yaml", "trips.service:TripsService"),
    "messages": ServiceSpec("services/messages/config.yaml", "messages.service:MessagesService"),
    "gateway": ServiceSpec("services/gateway/config.yaml", "gateway.service:GatewayService"),
}
