"""The README's promise: on a fresh clone, `pip install nox` then `nox` needs nothing
else installed by hand. Shown for the session with the most set-up (`contracts`: pact's
FFI, four services, release 1.0.0 rebuilt with uv) on a PATH with no `uv`: every tool
comes from the sessions' own venvs. All of that set-up runs, and with it one test that
needs every piece (the verifier, the services, the rebuilt release); the rest of the
session's tests are the `contracts` session's own job, not run twice."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from service_testing.services import REPO_ROOT

NOX = Path(sys.executable).parent / "nox"
# The interpreter itself, not this venv's: what `pip install nox` leaves on a machine.
PYTHON = Path(os.path.realpath(sys.executable))
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RUN_SECONDS = 900
# The pact verifier against airports 1.0.0, rebuilt from its git commit.
ONE_TEST_NEEDING_ALL_THE_SET_UP = "test_airports_1_0_0_honours_pacts_needing_only_v1"
# Variables that would let the run borrow tools or state from this one.
INHERITED_PREFIXES = ("VIRTUAL_ENV", "UV", "NOX", "PIP_", "PYTHON", "CONDA")


def fresh_clone(destination: Path) -> Path:
    """This checkout's HEAD commit, cloned with its history (release rebuilds need it)."""
    head = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()
    subprocess.run(
        ["git", "clone", "-q", "--no-checkout", str(REPO_ROOT), str(destination)],
        check=True,
        timeout=120,
    )
    subprocess.run(["git", "-C", str(destination), "checkout", "-q", head], check=True, timeout=60)
    return destination


def bare_path(bin_dir: Path) -> str:
    """A PATH with Python 3.11 and nox, the system directories, and no uv."""
    bin_dir.mkdir()
    for name in ("python3.11", "python3", "python"):
        (bin_dir / name).symlink_to(PYTHON)
    (bin_dir / "nox").symlink_to(NOX)
    return f"{bin_dir}:{SYSTEM_PATH}"


def test_a_fresh_clone_passes_nox_s_contracts_with_no_uv_on_path(tmp_path):
    clone = fresh_clone(tmp_path / "clone")
    path = bare_path(tmp_path / "bin")
    assert shutil.which("uv", path=path) is None, "uv on the test's PATH: it proves nothing"
    env = {k: v for k, v in os.environ.items() if not k.startswith(INHERITED_PREFIXES)}
    log = tmp_path / "nox.log"

    with log.open("w") as output:
        run = subprocess.run(
            ["nox", "-s", "contracts", "--", "-k", ONE_TEST_NEEDING_ALL_THE_SET_UP],
            cwd=clone,
            env={**env, "PATH": path},
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=RUN_SECONDS,
            check=False,
        )

    said = log.read_text()
    assert run.returncode == 0, said[-6000:]
    # nox itself found no uv either: the venv came from virtualenv.
    assert "Creating virtual environment (virtualenv)" in said
    assert "Session contracts was successful" in said
    # The selected test (one per parametrisation) ran, and only it.
    assert re.search(r"=+ \d+ passed, \d+ deselected", said), said[-3000:]
