"""Where things are in this checkout: services to run, committed pact files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from contracts.pact.processes import ServiceCommand
from contracts.releases import ReleaseBuild

REPO_ROOT = Path(__file__).resolve().parents[2]
PACT_DIR = REPO_ROOT / "contracts" / "pacts"

# service -> what ``nameko run`` serves
SERVICE_CLASSES = {
    "airports": "airports.service:AirportsService",
    "trips": "trips.service:TripsService",
    "gateway": "gateway.service:GatewayService",
    "messages": "messages.service:MessagesService",
}


def service_command(service: str, root: Path = REPO_ROOT) -> ServiceCommand:
    """``nameko run`` of ``service`` from the checkout at ``root``."""
    return ServiceCommand(
        service, SERVICE_CLASSES[service], root / "services" / service / "config.yaml"
    )


def release_command(release: ReleaseBuild, service: str) -> ServiceCommand:
    """``nameko run`` of ``service`` as released: the release's source and venv."""
    return replace(
        service_command(service, release.source), python=str(release.python), cwd=release.source
    )


def pact_files(provider: str) -> list[Path]:
    """Every committed pact for ``provider``: the current consumers' (``contracts/pacts/``)
    and those of each released consumer version (``contracts/pacts/<version>/``)."""
    return sorted(PACT_DIR.glob(f"*-{provider}.json")) + sorted(
        PACT_DIR.glob(f"*/*-{provider}.json")
    )


def pact_id(path: Path) -> str:
    return str(path.relative_to(PACT_DIR))
