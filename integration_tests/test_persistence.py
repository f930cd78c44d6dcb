"""Nothing lost: every service's Redis keeps what it acknowledged (compose.yaml's named
volumes, deploy/redis/redis.conf's append-only log) through a restart, a down/up, a
SIGKILL and a backup -> ``down -v`` -> restore (tools/redis_backup.py); and ``/ready``
says 503 while a Redis is still loading its data.

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
from testcontainers.core.container import DockerContainer
from testcontainers.core.waiting_utils import wait_for_logs

from integration_tests.brokers import DOCKER_MODE, REDIS_IMAGE
from integration_tests.compose import ComposeStack, running_compose_stack
from integration_tests.processes import IntegrationLauncher
from service_testing.ports import free_port
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


# --- /ready while a Redis loads its data ---------------------------------------------

# Enough keys, each delayed on load, that loading takes seconds; Redis answers other
# clients (with LOADING) every KiB it reads.
LOADING_KEYS = 20_000
SLOW_LOADING_ARGS = (
    "redis-server --bind 0.0.0.0 --protected-mode no --save '' --appendonly no "
    "--key-load-delay 200 --loading-process-events-interval-bytes 1024"
)


@pytest.fixture
def slowly_loading_redis(integration_mode: str) -> Iterator[tuple[DockerContainer, str]]:
    """A Redis container (and its URL) holding LOADING_KEYS keys in its snapshot."""
    if integration_mode != DOCKER_MODE:
        pytest.skip("restarts a Redis container; needs a Docker engine")
    import redis

    # A fixed host port: the test's restart must not move it.
    port = free_port()
    container = DockerContainer(REDIS_IMAGE).with_command(SLOW_LOADING_ARGS)
    with container.with_bind_ports(6379, port):
        wait_for_logs(container, "Ready to accept connections", timeout=30)
        url = f"redis://127.0.0.1:{port}/0"
        with redis.Redis.from_url(url) as client:
            with client.pipeline(transaction=False) as pipe:
                for number in range(LOADING_KEYS):
                    pipe.set(f"filler:{number}", number)
                pipe.execute()
            client.save()
        yield container, url


def loading(url: str) -> bool:
    """True while the Redis at ``url`` answers and says it is loading its data."""
    import redis

    try:
        with redis.Redis.from_url(url, socket_timeout=2) as client:
            return bool(client.info("persistence").get("loading"))
    except redis.ConnectionError:
        return False


def test_ready_is_503_while_a_redis_loads_its_data(
    slowly_loading_redis, services: IntegrationLauncher, report
):
    container, url = slowly_loading_redis
    services.start_rpc_service("airports", REDIS_URL=url)
    services.start_rpc_service("trips")
    services.start_rpc_service("messages")
    gateway = services.start_gateway()
    assert requests.get(f"{gateway.url}/ready", timeout=10).status_code == 200
    seen_while_loading: list[requests.Response] = []

    def answered_while_loading() -> bool:
        # Loading both before and after the request: it was answered during the load,
        # not while the container was still down.
        if loading(url):
            response = requests.get(f"{gateway.url}/ready", timeout=10)
            if loading(url):
                seen_while_loading.append(response)
        return bool(seen_while_loading)

    started = time.monotonic()
    container.get_wrapped_container().restart(timeout=10)
    wait_until(answered_while_loading, 30, "/ready's answer while airports' Redis loads")
    wait_until(
        lambda: requests.get(f"{gateway.url}/ready", timeout=10).status_code == 200,
        RECOVERY_TIMEOUT_SECONDS,
        "/ready once the data is loaded",
    )
    report(
        f"persistence, loading: /ready {seen_while_loading[0].status_code} while "
        f"{LOADING_KEYS} keys loaded, 200 {time.monotonic() - started:.1f} s after the restart"
    )
    assert seen_while_loading[0].status_code == 503
    assert seen_while_loading[0].json()["missing"] == ["airports"]
