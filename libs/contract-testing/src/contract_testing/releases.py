"""Rebuild a released version (its code and a venv with it) from git.

    python -m contract_testing.releases build 1.0.0 /tmp/release-1.0.0

writes ``<dir>/<commit>/src`` (``git archive`` of the release commit: contracts,
libs, services) and ``<dir>/<commit>/venv`` (those packages installed with the
release's own constraints), and prints the venv's python. Run a released service
with that python from ``src``: ``python -m nameko run --config
services/airports/config.yaml airports.service:AirportsService``. A complete
build is reused.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tarfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from service_testing.services import REPO_ROOT

RELEASES_FILE = REPO_ROOT / "contracts" / "releases.toml"
RELEASED_PATHS = ("contracts", "libs", "services", "constraints.txt")
COMPLETE_MARKER = ".complete"
# uv from this interpreter's own environment (the `uv` package, pinned in
# constraints.txt), not whatever `uv` is on PATH: the session installs what it uses.
UV = (sys.executable, "-m", "uv")


@dataclass(frozen=True)
class Release:
    version: str
    commit: str
    services: dict[str, str]


@dataclass(frozen=True)
class ReleaseBuild:
    source: Path  # the release's checkout (contracts/, libs/, services/)
    python: Path  # its venv's interpreter


def release(version: str) -> Release:
    entry = tomllib.loads(RELEASES_FILE.read_text())["releases"][version]
    return Release(version, entry["commit"], dict(entry["services"]))


def extract_source(rel: Release, destination: Path) -> None:
    """The release's code (``git archive`` of its commit) unpacked into ``destination``.

    Also what the integration tests build a released version's images from.
    """
    destination.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", rel.commit, *RELEASED_PATHS],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")


def build(version: str, directory: Path) -> ReleaseBuild:
    """The release's source and venv under ``directory`` (built once per commit)."""
    rel = release(version)
    home = directory.resolve() / rel.commit
    result = ReleaseBuild(source=home / "src", python=home / "venv" / "bin" / "python")
    if (home / COMPLETE_MARKER).exists():
        return result
    shutil.rmtree(home, ignore_errors=True)
    extract_source(rel, result.source)
    subprocess.run([*UV, "venv", "-q", "-p", sys.executable, str(home / "venv")], check=True)
    packages = ["./contracts", "./libs/service-runtime", *(f"./services/{s}" for s in rel.services)]
    subprocess.run(
        [
            *UV,
            "pip",
            "install",
            "-q",
            "--python",
            str(result.python),
            "-c",
            "constraints.txt",
            *packages,
        ],
        check=True,
        cwd=result.source,
    )
    (home / COMPLETE_MARKER).touch()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_command = commands.add_parser("build", help="extract and install a release")
    build_command.add_argument("version")
    build_command.add_argument("directory", type=Path)
    options = parser.parse_args(argv)
    print(build(options.version, options.directory).python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
