"""What the sessions need from the machine: set up where it can be, else one line that
says what is missing and how to fix it (service_testing.prerequisites, noxfile.py)."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from service_testing.broker_containers import inspect
from service_testing.ci import running_in_ci
from service_testing.ports import free_port
from service_testing.prerequisites import (
    START_DOCKER,
    Missing,
    ensure_broker,
    ensure_management_api,
    require_executable,
)
from service_testing.services import REPO_ROOT
from service_testing.waiting import wait_until

NOX = str(Path(sys.executable).parent / "nox")
FIX_PLUGIN = "rabbitmq-plugins enable rabbitmq_management"


@pytest.mark.parametrize("value", ["true", "1", "yes", "True", "github-actions"])
def test_any_ci_value_but_false_or_0_means_ci(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    assert running_in_ci()


@pytest.mark.parametrize("value", [None, "", "false", "False", "0"])
def test_no_ci_false_or_0_means_not_ci(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert not running_in_ci()


def one_line(missing: pytest.ExceptionInfo[Missing]) -> str:
    message = str(missing.value)
    assert "\n" not in message
    return message


def fake_command(directory: Path, name: str, script: str) -> Path:
    """An executable ``directory/name`` running ``script`` (sh), for a PATH of the test's."""
    directory.mkdir(exist_ok=True)
    command = directory / name
    command.write_text(f"#!/bin/sh\n{script}\n")
    command.chmod(0o755)
    return directory


class OverviewHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/api/overview" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def serve_api_once_enabled(port: int, enabled: Path) -> http.server.HTTPServer:
    """A stand-in for the management API: listens on ``port`` only once ``enabled``
    exists (written by the fake ``rabbitmq-plugins``), as the real plugin does."""
    server = http.server.HTTPServer(("127.0.0.1", port), OverviewHandler, bind_and_activate=False)

    def start_when_enabled() -> None:
        wait_until(enabled.exists, 30, "the fake plugin to be enabled")
        server.server_bind()
        server.server_activate()
        server.serve_forever(poll_interval=0.1)

    threading.Thread(target=start_when_enabled, daemon=True).start()
    return server


def test_a_missing_management_api_is_enabled_then_waited_for(tmp_path, monkeypatch):
    port = free_port()
    enabled = tmp_path / "enabled"
    calls = tmp_path / "calls"
    bin_dir = fake_command(
        tmp_path / "bin", "rabbitmq-plugins", f'echo "$@" >> {calls}\ntouch {enabled}'
    )
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    server = serve_api_once_enabled(port, enabled)
    said: list[str] = []
    try:
        ensure_management_api(f"http://guest:guest@127.0.0.1:{port}", said.append)
    finally:
        server.shutdown()

    assert calls.read_text() == "enable rabbitmq_management\n"
    assert said == [
        f"the RabbitMQ management API does not answer at 127.0.0.1:{port}; "
        f"enabling it: {FIX_PLUGIN}"
    ]


def test_without_rabbitmq_plugins_the_fix_is_named(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    port = free_port()
    with pytest.raises(Missing) as missing:
        ensure_management_api(f"http://guest:guest@127.0.0.1:{port}", print)

    assert one_line(missing) == (
        f"the RabbitMQ management API does not answer at 127.0.0.1:{port}; enable it: {FIX_PLUGIN}"
    )


def test_a_failing_rabbitmq_plugins_says_why_in_one_line(tmp_path, monkeypatch):
    bin_dir = fake_command(
        tmp_path / "bin", "rabbitmq-plugins", "echo 'Error: access denied' >&2\nexit 2"
    )
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(Missing) as missing:
        ensure_management_api(f"http://guest:guest@127.0.0.1:{free_port()}", print)

    assert "`rabbitmq-plugins enable rabbitmq_management` failed here" in one_line(missing)
    assert "(Error: access denied); run it as root" in one_line(missing)


def test_a_remote_broker_that_is_down_is_named_not_started():
    with pytest.raises(Missing) as missing:
        ensure_broker("Redis", "redis://192.0.2.1:6379/0", 6379, print)

    assert one_line(missing).startswith("Redis does not answer on 192.0.2.1:6379; start it")


def neither_installed_nor_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")


@pytest.mark.parametrize(
    ("broker", "scheme", "install"),
    [
        ("RabbitMQ", "amqp", "apt-get install -y rabbitmq-server"),
        ("Redis", "redis", "apt-get install -y redis-server"),
    ],
)
def test_a_local_broker_neither_installed_nor_dockerised_names_both_ways_out(
    monkeypatch, broker, scheme, install
):
    neither_installed_nor_docker(monkeypatch)
    port = free_port()
    with pytest.raises(Missing) as missing:
        ensure_broker(broker, f"{scheme}://127.0.0.1:{port}/", 1, print)

    assert one_line(missing) == (
        f"{broker} does not answer on 127.0.0.1:{port} and is not installed here; install it: "
        f"{install}, or start a Docker engine to have it run in a container: {START_DOCKER}"
    )


def shut_down_redis(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(b"SHUTDOWN NOSAVE\r\n")
        connection.recv(16)  # the connection closes once Redis is gone


def test_an_installed_redis_that_is_down_is_started_rather_than_run_in_a_container(
    tmp_path, monkeypatch
):
    installed = shutil.which("redis-server")
    if installed is None:
        pytest.skip("needs redis-server installed: apt-get install -y redis-server")
    calls = tmp_path / "calls"
    bin_dir = fake_command(
        tmp_path / "bin", "redis-server", f'echo "$@" >> {calls}\nexec {installed} "$@"'
    )
    # Docker may well answer here too: what is installed comes first.
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    port = free_port()
    said: list[str] = []
    try:
        ensure_broker("Redis", f"redis://127.0.0.1:{port}/0", 6379, said.append)
    finally:
        if calls.exists():
            shut_down_redis(port)

    assert f"--port {port}" in calls.read_text()
    assert said[0].startswith("Redis is down; starting it: redis-server --daemonize yes")
    assert inspect(f"travel-redis-{port}") is None


def test_nox_stops_with_one_line_when_a_broker_is_neither_installed_nor_dockerised():
    port = free_port()
    run = nox_session(
        "contracts",
        PATH=f"{Path(sys.executable).parent}:/nonexistent",
        DOCKER_HOST="unix:///nonexistent/docker.sock",
        TEST_AMQP_URI=f"amqp://guest:guest@127.0.0.1:{port}/",
    )

    assert run.returncode != 0
    assert "Traceback" not in run.stderr + run.stdout
    assert (
        f"Session contracts aborted: RabbitMQ does not answer on 127.0.0.1:{port} and is not "
        "installed here; install it: apt-get install -y rabbitmq-server, or start a Docker "
        f"engine to have it run in a container: {START_DOCKER}" in run.stderr
    )


def test_a_missing_executable_names_its_install_command(tmp_path):
    with pytest.raises(Missing) as missing:
        require_executable(str(tmp_path / "chromium"), "Chromium", "apt-get install -y chromium")

    assert one_line(missing) == (
        f"Chromium not found at {tmp_path / 'chromium'}; install it: apt-get install -y chromium"
    )


def nox_session(session: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``nox -s <session>`` of this checkout without a venv: only its checks run
    before the missing prerequisite stops it."""
    return subprocess.run(
        [NOX, "-f", str(REPO_ROOT / "noxfile.py"), "--no-venv", "-s", session],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_nox_stops_at_a_missing_management_api_with_one_line(tmp_path):
    # No rabbitmq-plugins on this PATH, an API address where nothing listens.
    port = free_port()
    run = nox_session(
        "contracts",
        PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
        TEST_RABBIT_API_URI=f"http://guest:guest@127.0.0.1:{port}",
    )

    assert run.returncode != 0
    assert "Traceback" not in run.stderr + run.stdout
    assert (
        f"Session contracts aborted: the RabbitMQ management API does not answer at "
        f"127.0.0.1:{port}; enable it: {FIX_PLUGIN}" in run.stderr
    )


def test_nox_browser_without_chromium_fails_in_ci_and_is_skipped_elsewhere(tmp_path):
    missing = f"Chromium not found at {tmp_path}/chromium; install it: apt-get install -y chromium"
    in_ci = nox_session("browser", CI="true", CHROMIUM_PATH=str(tmp_path / "chromium"))
    elsewhere = nox_session("browser", CI="", CHROMIUM_PATH=str(tmp_path / "chromium"))

    assert in_ci.returncode != 0
    assert f"Session browser aborted: {missing}" in in_ci.stderr
    assert elsewhere.returncode == 0
    assert f"Session browser skipped: {missing}" in elsewhere.stderr
    assert "Traceback" not in in_ci.stderr + elsewhere.stderr
