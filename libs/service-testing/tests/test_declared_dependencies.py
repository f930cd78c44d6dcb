"""Each package of the repo declares every distribution its code imports.

A package that imports what it does not declare works only while something else
happens to install it (nameko brings kombu, service-runtime brings nameko ...), and
breaks when that changes. Every ``import`` of every module under a package's ``src/``
is mapped to the distribution that provides it: the repo's own packages by their
``pyproject.toml``, the rest by the metadata of what this environment has installed
(the tests-libs session installs every package, so every import resolves).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from service_testing.services import REPO_ROOT

PYPROJECTS = sorted(
    path
    for pattern in (
        "contracts/pyproject.toml",
        "libs/*/pyproject.toml",
        "services/*/pyproject.toml",
    )
    for path in REPO_ROOT.glob(pattern)
)


def normalized(name: str) -> str:
    """A distribution's name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project(pyproject: Path) -> dict:
    return tomllib.loads(pyproject.read_text())


def own_packages() -> dict[str, str]:
    """Top-level import name -> distribution, for the packages this repo builds."""
    owners = {}
    for pyproject in PYPROJECTS:
        meta = project(pyproject)
        for package in meta["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]:
            owners[Path(package).name] = normalized(meta["project"]["name"])
    return owners


def declared(pyproject: Path) -> set[str]:
    requirements = project(pyproject)["project"].get("dependencies", [])
    return {normalized(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in requirements}


def imported_modules(source: Path) -> set[str]:
    """Top-level names of every absolute import in ``source``, function bodies included."""
    names = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def imported_distributions(pyproject: Path) -> dict[str, set[str]]:
    """Distribution -> the modules of the package that import it (the standard library
    and the package itself left out)."""
    owners = {**packages_distributions(), **{k: [v] for k, v in own_packages().items()}}
    itself = normalized(project(pyproject)["project"]["name"])
    found: dict[str, set[str]] = {}
    for source in sorted((pyproject.parent / "src").rglob("*.py")):
        for module in imported_modules(source) - set(sys.stdlib_module_names):
            if module not in owners:
                pytest.fail(
                    f"{source.relative_to(REPO_ROOT)} imports {module!r}, which no installed "
                    "distribution provides: install its package in the tests-libs session"
                )
            for distribution in map(normalized, owners[module]):
                if distribution != itself:
                    found.setdefault(distribution, set()).add(str(source.relative_to(REPO_ROOT)))
    return found


@pytest.mark.parametrize(
    "pyproject", PYPROJECTS, ids=lambda p: str(p.parent.relative_to(REPO_ROOT))
)
def test_every_imported_distribution_is_declared(pyproject):
    undeclared = {
        distribution: sorted(modules)
        for distribution, modules in imported_distributions(pyproject).items()
        if distribution not in declared(pyproject)
    }

    assert not undeclared, f"{pyproject.relative_to(REPO_ROOT)} does not declare " + "; ".join(
        f"{distribution} (imported by {', '.join(modules)})"
        for distribution, modules in sorted(undeclared.items())
    )


def test_the_repo_packages_are_all_checked():
    assert {str(p.parent.relative_to(REPO_ROOT)) for p in PYPROJECTS} >= {
        "contracts",
        "libs/service-runtime",
        "services/gateway",
    }
