"""``service_runtime.serve``: a setting it cannot use stops the process at start with one
line naming it, whether the service reads it at start or only later, on a request."""

import subprocess
import sys
import textwrap

import pytest

SERVICE = """
from service_runtime.chassis import ObservedService
from service_runtime.settings import Setting

# Read by no extension at start: only a request would read it.
PAGE_SIZE = Setting("TEST_PAGE_SIZE", int, 10, "read on a request only", minimum=1)


class Tiny(ObservedService):
    name = "tiny"
"""
# The process refuses long before this, without reaching for the broker.
EXIT_SECONDS = 60


@pytest.mark.parametrize(
    ("setting", "bound"),
    [("METRICS_PORT: 70000", "at most 65535"), ("TEST_PAGE_SIZE: 0", "at least 1")],
)
def test_a_setting_out_of_bounds_stops_the_process_with_one_line(tmp_path, setting, bound):
    (tmp_path / "tiny_service.py").write_text(SERVICE)
    config = tmp_path / "config.yaml"
    # A broker nobody listens on: reaching for it would hang, not refuse.
    config.write_text(textwrap.dedent(f"AMQP_URI: pyamqp://guest:guest@127.0.0.1:9/\n{setting}\n"))

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "service_runtime.serve",
            "run",
            "--config",
            str(config),
            "tiny_service:Tiny",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=EXIT_SECONDS,
    )

    key, value = setting.split(": ")
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.splitlines() == [f"configuration error: {key}={value}: must be {bound}"]
