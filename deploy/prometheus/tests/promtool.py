"""``promtool``: the one on PATH (Debian's `prometheus` package), else the one in the
Prometheus image compose.yaml runs (local, or pulled), run on this folder mounted at the
same path, so the same relative paths work either way."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

PROMETHEUS_DIR = Path(__file__).resolve().parent.parent
COMPOSE_FILE = PROMETHEUS_DIR.parent.parent / "compose.yaml"
SECONDS = 120


def promtool_command() -> list[str]:
    if shutil.which("promtool"):
        return ["promtool"]
    folder = str(PROMETHEUS_DIR)
    image = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["prometheus"]["image"]
    return [
        "docker", "run", "--rm", f"--volume={folder}:{folder}:ro", f"--workdir={folder}",
        "--entrypoint=promtool", image,
    ]  # fmt: skip


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    """``promtool args...`` in deploy/prometheus/."""
    return subprocess.run(
        [*promtool_command(), *args],
        cwd=PROMETHEUS_DIR,
        capture_output=True,
        text=True,
        timeout=SECONDS,
        check=False,
    )
