"""Where things are in this checkout: services to run, committed pact files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from contract_testing.releases import ReleaseBuild
from service_testing.processes import ServiceCommand
from service_testing.services import REPO_ROOT

PACT_DIR = REPO_ROOT / "contracts" / "pacts"


def service_command(service: str) -> ServiceCommand:
    """``nameko run`` of ``service`` from this checkout."""
    return ServiceCommand.of(service)


def release_command(release: ReleaseBuild, service: str) -> ServiceCommand:
    """``nameko run`` of ``service`` as released: the release's source and venv."""
    return replace(ServiceCommand.of(service, release.source), python=str(release.python))


def committed_pacts(pattern: str) -> list[Path]:
    """The committed pact files matching ``pattern`` (relative to ``PACT_DIR``), never
    none: a verification looping over no files would pass having checked nothing."""
    files = sorted(PACT_DIR.glob(pattern))
    assert files, f"no pact file matches {PACT_DIR / pattern}"
    return files


def pact_files(provider: str) -> list[Path]:
    """Every committed pact for ``provider``: the current consumers' (``contracts/pacts/``,
    at least one) and those of each released consumer version (``contracts/pacts/<version>/``,
    none for a provider no released consumer called)."""
    return committed_pacts(f"*-{provider}.json") + sorted(PACT_DIR.glob(f"*/*-{provider}.json"))


def pact_id(path: Path) -> str:
    return str(path.relative_to(PACT_DIR))
