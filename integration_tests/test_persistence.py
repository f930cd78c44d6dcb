"""Nothing lost: every service's Redis keeps what it acknowledged (compose.yaml's named
volumes, deploy/redis/redis.conf's append-only log) through a restart, a down/up, a
SIGKILL and a backup -> ``down -v`` -> restore (tools/redis_backup.py). (``/ready``
while a Redis loads: services/gateway/tests/test_ready_while_redis_loads.py.)

The compose tests share one stack (building and starting it is most of their time).
Each writes its own airports and trips through the gateway, does one thing to the
Redis containers, then reads back every record the module has written so far.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import requests

from integration_tests.compose import ComposeStack, running_compose_stack
from service_testing.services import REPO_ROOT
from service_testing.waiting import wait_until

AIRPORTS_PER_TEST = 30  # and one trip between each two consecutive airports: 29
REDIS_PREFIX = "redis-"  # compose.yaml: every service's Redis is redis-<service>
BACKUP_TOOL = REPO_ROOT / "tools" / "redis_backup.py"
RECOVERY_TIMEOUT_SECONDS = 90
# The crash case: the Redis dies this long after the last acknowledged write.
SECONDS_BEFORE_KILL = 2


@pytest.fixture(scope="module")
def stack(integration_mode: str, report) -> Iterator[ComposeStack]:
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        running_compose_stack(integration_mode, monkeypatch, report) as running,
    ):
        yield running


@pytest.fixture(scope="module")
def written() -> dict[str, dict]:
    """Every record the module wrote: its gateway path -> the body it must read back as."""
    return {}


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def write_records(http: requests.Session, api: str, written: dict[str, dict]) -> int:
    """AIRPORTS_PER_TEST airports and the trips between them, through the gateway."""
    tag = uuid.uuid4().hex[:8]
    airports = []
    for number in range(AIRPORTS_PER_TEST):
        name = f"Persisted {tag} {number}"
        response = http.post(f"{api}/airport", json={"airport": name}, timeout=10)
        assert response.status_code == 201, response.text
        airports.append(response.json()["id"])
        written[f"/airport/{airports[-1]}"] = {"id": airports[-1], "name": name}
    for origin, destination in itertools.pairwise(airports):
        body = {"airport_from": origin, "airport_to": destination}
        response = http.post(f"{api}/trip", json=body, timeout=10)
        assert response.status_code == 201, response.text
        written[f"/trip/{response.json()['id']}"] = {"id": response.json()["id"], **body}
    return 2 * AIRPORTS_PER_TEST - 1


def read_back(http: requests.Session, api: str, written: dict[str, dict]) -> int:
    return sum(
        1 for path, body in written.items() if http.get(f"{api}{path}", timeout=10).json() == body
    )


def wait_ready(http: requests.Session, api: str) -> None:
    def ready() -> bool:
        try:
            return http.get(f"{api}/ready", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    wait_until(ready, RECOVERY_TIMEOUT_SECONDS, "the gateway's /ready")


def survives(
    stack: ComposeStack,
    http: requests.Session,
    written: dict[str, dict],
    report: Callable[[str], None],
    scenario: str,
    disturb: Callable[[], None],
) -> None:
    """Write, ``disturb`` the Redis containers, wait for /ready, read everything back."""
    this_test = write_records(http, stack.url, written)
    started = time.monotonic()
    disturb()
    wait_ready(http, stack.url)
    back = read_back(http, stack.url, written)
    report(
        f"persistence, {scenario}: wrote {this_test} (module total {len(written)}), "
        f"read back {back} of {len(written)}; down to ready in {time.monotonic() - started:.1f} s"
    )
    assert back == len(written)


def test_restart_of_every_redis_keeps_every_record(stack, http, written, report):
    def restart() -> None:
        stack.compose_command("restart", *stack.services(REDIS_PREFIX))

    survives(stack, http, written, report, "compose restart", restart)


def test_down_then_up_keeps_every_record(stack, http, written, report):
    def down_up() -> None:
        stack.compose_command("down")
        stack.up()

    survives(stack, http, written, report, "down, up (no -v)", down_up)


def test_sigkill_of_every_redis_loses_nothing_acknowledged(stack, http, written, report):
    def crash() -> None:
        time.sleep(SECONDS_BEFORE_KILL)  # the scenario itself, not a wait for something
        stack.compose_command("kill", "--signal", "SIGKILL", *stack.services(REDIS_PREFIX))
        stack.up()

    survives(stack, http, written, report, f"SIGKILL {SECONDS_BEFORE_KILL} s after", crash)


def test_backup_then_down_v_then_restore_brings_every_record_back(
    stack, http, written, report, tmp_path
):
    def lose_everything_but_the_backup() -> None:
        tool = [sys.executable, str(BACKUP_TOOL), "--project-name", stack.project]
        subprocess.run([*tool, "backup", str(tmp_path)], check=True)
        stack.compose_command("down", "--volumes")
        assert stack.leftovers()["volumes"] == []
        subprocess.run([*tool, "restore", str(tmp_path)], check=True)
        stack.up()

    survives(
        stack, http, written, report, "backup, down -v, restore", lose_everything_but_the_backup
    )
