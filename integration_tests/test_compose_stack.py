"""The operator's path: ``docker compose up --build`` serves the walkthrough, ``--scale``
spreads calls over every instance, the observability profile's Prometheus scrapes every
replica and alerts when a service is gone, ``stop`` lets calls in flight finish, a
setting out of bounds stops a service at start with one line, and ``docker compose
down`` leaves nothing behind.

The tests share one stack, with the observability profile (building and starting it is
most of their time), and run in file order: the last one takes it down. It runs under a
project name and host ports of its own (COMPOSE_PROJECT_NAME, EDGE_HOST_PORT,
PROMETHEUS_HOST_PORT), so a developer's stack on :8000 is never touched.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from integration_tests.break_in import attempts_from
from integration_tests.compose import ComposeStack, running_compose_stack
from integration_tests.prometheus import PrometheusApi
from integration_tests.redis_contents import read_redis
from service_testing.oversized_body import assert_413_json, post_whole_then_read
from service_testing.ports import free_port
from service_testing.services import REPO_ROOT
from service_testing.waiting import wait_until

# The services built from this repo; RabbitMQ and Redis are infrastructure.
OUR_SERVICES = ("airports", "trips", "messages", "gateway")
# Every client call is bounded: a hung stack fails the test instead of blocking the run.
HTTP_SECONDS = 30
SCALED = 3
CALLS_PER_INSTANCE = 4
# Each instance writes its log in batches (service_runtime.logformat): at most 5 s late.
LOG_SECONDS = 30
# Redis writes of airports stall this long (CLIENT PAUSE WRITE): a create stays in flight
# while its instance is told to stop. An upper bound: `stop` returns once it answered.
# Well under the store's socket timeout (5 s), or the waiting write would end as a 503.
WRITES_PAUSED_MS = 2500
# Prometheus runs deploy/prometheus/prometheus.yml with its clocks (DNS discovery every
# 10 s, scrapes and rule evaluations every 15 s) set to PROMETHEUS_CLOCK: the same jobs,
# relabelling and rules, found and evaluated within seconds instead of half a minute.
PROMETHEUS_CLOCK = "3s"
DISCOVERY_SECONDS = 120
# The alerts deploy/prometheus/alerts.yml defines.
ALERT_NAMES = {
    rule["alert"]
    for group in yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())[
        "groups"
    ]
    for rule in group["rules"]
}
# An out-of-bounds value (service_runtime.settings: at most 65535) of a setting read at start.
OUT_OF_BOUNDS = ("METRICS_PORT", "70000")


GATEWAYS = 2  # the edge's test scales the gateway to two replicas


@pytest.fixture(scope="module")
def prometheus_port() -> int:
    return free_port()


def prometheus_config_on_a_fast_clock(directory: Path) -> Path:
    """compose.yaml's Prometheus config file, replaced by the shipped one with every
    interval (and the scrape timeout, which may not exceed it) at PROMETHEUS_CLOCK."""
    config = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    config["global"].update(
        scrape_interval=PROMETHEUS_CLOCK,
        scrape_timeout=PROMETHEUS_CLOCK,
        evaluation_interval=PROMETHEUS_CLOCK,
    )
    for job in config["scrape_configs"]:
        for discovery in job.get("dns_sd_configs", []):
            discovery["refresh_interval"] = PROMETHEUS_CLOCK
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
    override = {"configs": {"prometheus-config": {"file": str(directory / "prometheus.yml")}}}
    (directory / "compose.override.yaml").write_text(yaml.safe_dump(override))
    return directory / "compose.override.yaml"


@pytest.fixture(scope="module")
def compose_stack(
    integration_mode: str, report, prometheus_port: int, tmp_path_factory
) -> Iterator[ComposeStack]:
    override = prometheus_config_on_a_fast_clock(tmp_path_factory.mktemp("prometheus"))
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("COMPOSE_FILE", f"compose.yaml:{override}")
        monkeypatch.setenv("COMPOSE_PROFILES", "observability")
        monkeypatch.setenv("PROMETHEUS_HOST_PORT", str(prometheus_port))
        with running_compose_stack(integration_mode, monkeypatch, report) as stack:
            yield stack


def created_id(response: requests.Response) -> str:
    assert response.status_code == 201, response.text
    return response.json()["id"]


# The gateway's default burst (MESSAGE_RATE_LIMIT_BURST), which compose leaves as is.
RATE_LIMIT_BURST = 10
# Run in a new container on the edge's network (a gateway image: it has Python): posts
# to the edge's ``path``, by name, until one is refused (a token comes back every second
# meanwhile) or ``count`` are sent; prints each status, then the last body and its
# Retry-After.
POSTS_TO_THE_EDGE = """
import sys, urllib.error, urllib.request
path, count, sent = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
for _ in range(count):
    request = urllib.request.Request(
        f"http://edge:8000{path}", data=sent,
        headers={"Content-Type": "application/json", "Host": "localhost"})
    try:
        answer = urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as error:
        answer = error
    body = answer.read().decode()
    print(answer.status)
    if answer.status == 429:
        break
print(body)
print(answer.headers.get("Retry-After"))
"""
MESSAGE = '{"message": "from inside"}'


def posts_to_the_edge(
    stack: ComposeStack,
    count: int,
    path: str = "/messages",
    body: str = MESSAGE,
    inside: str | None = None,
) -> tuple[list[int], str, str | None]:
    """Posts to the edge from a new container on the edge's network (or from the running
    container of service ``inside``): one client address. Until refused or ``count`` are
    sent: (statuses, last body, Retry-After)."""
    command = ["python", "-c", POSTS_TO_THE_EDGE, path, str(count), body]
    if inside is None:
        output = stack.run_on_network("public", "travel/gateway:local", command)
    else:
        ran = stack.compose_command("exec", "-T", inside, *command, capture_output=True, text=True)
        output = ran.stdout
    *statuses, body, retry_after = output.strip().splitlines()
    return [int(status) for status in statuses], body, retry_after


def gateways_answering(stack: ComposeStack, api: str, marker: str) -> set[str]:
    """Send a batch of requests tagged ``marker`` to the edge; the gateway containers whose
    log holds one tagged so (this batch's or an earlier one's: logs are written in batches)."""
    for n in range(10):
        requests.get(f"{api}/health", headers={"X-Request-Id": f"{marker}-{n}"}, timeout=10)
    return {
        container.name
        for container in stack.containers()
        if container.labels["com.docker.compose.service"] == "gateway"
        and marker in container.logs().decode(errors="replace")
    }


def containers_of(stack: ComposeStack, service: str) -> list:
    return [c for c in stack.containers() if c.labels["com.docker.compose.service"] == service]


def redis_cli(stack: ComposeStack, *command: str) -> str:
    return stack.redis_cli("redis-airports", *command)


def test_travel_and_messenger_walkthrough_on_compose(compose_stack):
    api = compose_stack.url
    with requests.Session() as http:
        assert http.get(f"{api}/ready", timeout=HTTP_SECONDS).status_code == 200
        amsterdam = created_id(
            http.post(f"{api}/airport", json={"airport": "Amsterdam"}, timeout=HTTP_SECONDS)
        )
        berlin = created_id(
            http.post(f"{api}/airport", json={"airport": "Berlin"}, timeout=HTTP_SECONDS)
        )
        trip = created_id(
            http.post(
                f"{api}/trip",
                json={"airport_from": amsterdam, "airport_to": berlin},
                timeout=HTTP_SECONDS,
            )
        )
        assert http.get(f"{api}/trip/{trip}", timeout=HTTP_SECONDS).json() == {
            "id": trip,
            "airport_from": amsterdam,
            "airport_to": berlin,
        }
        assert http.get(f"{api}/airport/{berlin}", timeout=HTTP_SECONDS).json() == {
            "id": berlin,
            "name": "Berlin",
        }
        message = created_id(
            http.post(
                f"{api}/messages", json={"message": "hello from compose"}, timeout=HTTP_SECONDS
            )
        )
        listed = http.get(f"{api}/messages", timeout=HTTP_SECONDS).json()
        assert [(m["id"], m["text"]) for m in listed] == [(message, "hello from compose")]

    # Through Docker's port publishing too, a client that writes a whole oversized body
    # before reading gets its 413 JSON, not a reset.
    for connection in ("close", "keep-alive"):
        assert_413_json(post_whole_then_read(api, 2_000_000, connection))

    # Each service runs as PID 1 (exec), started by the lean entry point.
    for container in compose_stack.containers():
        if container.labels["com.docker.compose.service"] in OUR_SERVICES:
            command = container.exec_run(["cat", "/proc/1/cmdline"]).output.split(b"\0")
            assert command[:3] == [b"python", b"-m", b"service_runtime.serve"], command


def test_the_edge_is_the_only_way_in_and_follows_gateway_replicas(compose_stack):
    api = compose_stack.url
    # The gateway is reached through the edge only, and keys the rate limit on the
    # address the edge saw: two clients on the edge's network (a new container, and the
    # gateway's own: two addresses) get a bucket each, and no answer shows an address.
    assert [port for port in compose_stack.published_ports("gateway")] == []
    first, refusal, _ = posts_to_the_edge(compose_stack, 3 * RATE_LIMIT_BURST)
    second, _, _ = posts_to_the_edge(compose_stack, 1, inside="gateway")
    *accepted, refused = first
    assert refused == 429
    assert set(accepted) == {201}
    assert len(accepted) >= RATE_LIMIT_BURST
    assert "RATE_LIMITED" in refusal
    assert "172." not in refusal
    assert "10." not in refusal
    assert second == [201]

    # A second gateway, started while the edge runs, gets requests from it: the edge
    # follows the replicas in the network's DNS without a reload or a restart.
    compose_stack.compose_command(
        "up", "--detach", "--wait", "--no-recreate", "--scale", f"gateway={GATEWAYS}", "gateway"
    )
    marker = f"scale-{uuid.uuid4().hex[:8]}"
    wait_until(
        lambda: len(gateways_answering(compose_stack, api, marker)) == 2,
        HTTP_SECONDS,
        "both gateways to answer through the edge",
    )


# The edge's documented default (deploy/edge/haproxy.cfg, README: the edge's limits).
CREATES_PER_MINUTE = int(
    re.search(
        r"EDGE_MAX_CREATES_PER_MINUTE-(\d+)",
        (REPO_ROOT / "deploy" / "edge" / "haproxy.cfg").read_text(),
    )[1]
)
# Commands a service's own Redis user may not run (tools/credentials.py).
DANGEROUS = (
    ["CONFIG", "GET", "*"],
    ["FLUSHALL"],
    ["KEYS", "*"],
    ["DEBUG", "SLEEP", "0"],
    ["SHUTDOWN", "NOSAVE"],
)


def container_address(stack: ComposeStack, service: str) -> str:
    [container] = containers_of(stack, service)
    [network] = container.attrs["NetworkSettings"]["Networks"].values()
    return network["IPAddress"]


def break_in_attempts(stack: ComposeStack, own: str, other: str) -> list[list]:
    """What a compromised ``own`` container tries: ``other``'s Redis (by name and by
    address), its own Redis's dangerous commands, the management API, guest, another
    service's RPC queue and its calls."""
    redis = f"redis-{own}"
    return [
        ["another service's Redis by name", "connect", f"redis-{other}", 6379],
        [
            "another service's Redis by address",
            "connect",
            container_address(stack, f"redis-{other}"),
            6379,
        ],
        *([f"own Redis: {' '.join(c)}", "redis", redis, own, *c] for c in DANGEROUS),
        ["own Redis without a password: GET", "redis", redis, None, "GET", "x"],
        ["the management API", "http", "rabbitmq", 15672, "/api/overview"],
        ["RabbitMQ as guest", "login", "guest", "guest"],
        [f"consume rpc-{other}", "consume", f"rpc-{other}"],
        [f"bind a queue to {other}'s calls", "bind", other],
    ]


def refused(answer: str) -> bool:
    return not answer.startswith("got in")


@pytest.mark.parametrize(("own", "other"), [("gateway", "airports"), ("airports", "trips")])
def test_a_compromised_container_reaches_only_what_it_needs(compose_stack, report, own, other):
    answers = attempts_from(compose_stack, own, break_in_attempts(compose_stack, own, other))
    if own != "gateway":  # a service: the public side too
        answers.update(
            attempts_from(
                compose_stack,
                own,
                [
                    ["the edge", "connect", "edge", 8000],
                    ["the gateway", "connect", "gateway", 8000],
                ],
            )
        )
    for attempt, answer in answers.items():
        report(f"break-in from {own}: {attempt} -> {answer}")

    assert [attempt for attempt, answer in answers.items() if not refused(answer)] == []
    # Refused for the reason meant, not by a typo in the attempt.
    assert answers["another service's Redis by name"].startswith("gaierror")  # no such name
    assert answers["another service's Redis by address"].startswith("TimeoutError")
    for command in DANGEROUS:  # DEBUG: Redis refuses it to every remote client
        answer = answers[f"own Redis: {' '.join(command)}"]
        assert answer.startswith("NoPermissionError") or "DEBUG command not allowed" in answer
    assert "ACCESS_REFUSED" in answers["RabbitMQ as guest"]
    assert "ACCESS_REFUSED" in answers[f"consume rpc-{other}"]
    assert "ACCESS_REFUSED" in answers[f"bind a queue to {other}'s calls"]
    assert "Connection refused" in answers["the management API"]
    # What it needs still answers: its own Redis as its own user.
    own_redis = attempts_from(compose_stack, own, [["ping", "redis", f"redis-{own}", own, "PING"]])
    assert own_redis == {"ping": "got in: True"}


def test_every_container_is_hardened_and_no_image_holds_setuid_files_or_wheels(compose_stack):
    for container in compose_stack.containers():
        if container.status != "running":
            continue
        host = container.attrs["HostConfig"]
        name = container.labels["com.docker.compose.service"]
        assert host["ReadonlyRootfs"] is True, name
        assert host["CapDrop"] == ["ALL"], name
        assert not host["CapAdd"], name
        assert "no-new-privileges:true" in host["SecurityOpt"], name
        assert not host["Privileged"], name

    # As root, to see every file; the stray top-level `test` package would shadow the
    # standard library's.
    scan = (
        "find / -xdev -type f -perm /6000; ls -d /wheels 2>/dev/null; "
        "python -c 'import test; print(test.__file__)' | grep site-packages; true"
    )
    for service in OUR_SERVICES:
        image = f"travel/{service}:local"
        found = compose_stack.run_on_network(None, image, ["-c", scan], user="0", entrypoint="sh")
        assert found.split() == [], (service, found)


def test_the_create_flood_gets_429_after_the_documented_burst(compose_stack, report):
    statuses, body, retry_after = posts_to_the_edge(
        compose_stack, CREATES_PER_MINUTE + 5, "/airport", '{"airport": "Flood"}'
    )
    report(f"create flood from one client: {len(statuses) - 1} created, then {statuses[-1]}")
    assert statuses == [201] * CREATES_PER_MINUTE + [429]
    assert json.loads(body)["error"] == "TOO_MANY_CREATES"
    assert retry_after == "60"


def test_a_full_redis_refuses_writes_with_503_and_evicts_nothing(compose_stack):
    api = compose_stack.url
    bound = compose_stack.redis_cli("redis-airports", "CONFIG", "GET", "maxmemory").split()
    policy = compose_stack.redis_cli("redis-airports", "CONFIG", "GET", "maxmemory-policy")
    assert bound == ["maxmemory", str(128 * 1024 * 1024)]  # deploy/redis/redis.conf
    assert policy.split() == ["maxmemory-policy", "noeviction"]
    kept = created_id(
        requests.post(f"{api}/airport", json={"airport": "Kept"}, timeout=HTTP_SECONDS)
    )
    keys = compose_stack.redis_cli("redis-airports", "DBSIZE")
    try:
        compose_stack.redis_cli("redis-airports", "CONFIG", "SET", "maxmemory", "1")
        refused = requests.post(f"{api}/airport", json={"airport": "Full"}, timeout=HTTP_SECONDS)
        read = requests.get(f"{api}/airport/{kept}", timeout=HTTP_SECONDS)
        keys_when_full = compose_stack.redis_cli("redis-airports", "DBSIZE")
    finally:
        compose_stack.redis_cli("redis-airports", "CONFIG", "SET", "maxmemory", bound[1])

    assert refused.status_code == 503
    assert refused.json()["error"] == "STORAGE_FULL"
    assert read.status_code == 200  # reads go on
    assert keys_when_full == keys  # nothing evicted
    # The memory metric, as Prometheus scrapes it from the gateway (its own Redis).
    scrape = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8000/metrics').read().decode())"
    metrics = compose_stack.compose_command(
        *("exec", "-T", "gateway", "python", "-c", scrape), capture_output=True, text=True
    ).stdout
    samples = {
        (sample.name, tuple(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
    }
    store = (("store", "gateway"),)
    assert samples[("redis_memory_max_bytes", store)] == int(bound[1])
    assert 0 < samples[("redis_memory_used_bytes", store)] < int(bound[1])


def test_scale_spreads_calls_over_every_instance(compose_stack, report):
    compose_stack.up(report, "--scale", f"airports={SCALED}")
    instances = containers_of(compose_stack, "airports")
    assert len(instances) == SCALED

    # Creates, not reads: the gateway keeps every airport it has seen and would answer
    # a read itself. Each call's request id shows up in the call log of the instance
    # that served it.
    tag = uuid.uuid4().hex[:8]
    # Equally long, so no id is part of another.
    request_ids = [f"scale-{tag}-{n:03d}" for n in range(SCALED * CALLS_PER_INSTANCE)]
    with requests.Session() as http:
        for request_id in request_ids:
            response = http.post(
                f"{compose_stack.url}/airport",
                json={"airport": f"Scaled {request_id}"},
                headers={"X-Request-Id": request_id},
                timeout=HTTP_SECONDS,
            )
            created_id(response)

    def served_by(container) -> list[str]:
        log = container.logs().decode(errors="replace")
        return [request_id for request_id in request_ids if request_id in log]

    served: dict[str, list[str]] = {}

    def every_instance_served() -> bool:
        served.update({container.name: served_by(container) for container in instances})
        return sum(map(len, served.values())) == len(request_ids) and all(served.values())

    try:
        wait_until(every_instance_served, LOG_SECONDS, "every instance's call-log lines")
    finally:
        report(
            f"compose --scale airports={SCALED}: {len(request_ids)} creates served per "
            f"instance {sorted(len(ids) for ids in served.values())}"
        )


def test_prometheus_scrapes_every_replica_and_alerts_when_a_service_is_gone(
    compose_stack, prometheus_port
):
    """Prometheus (the observability profile) finds and scrapes every target, each replica
    of a scaled service and RabbitMQ's exporter included, loads
    deploy/prometheus/alerts.yml, is quiet while all is well, and raises
    ServiceWithoutLiveInstance when a service is gone."""
    prometheus = PrometheusApi(f"http://127.0.0.1:{prometheus_port}")
    scale = ("--scale", f"airports={SCALED}", "--scale", f"gateway={GATEWAYS}")
    compose_stack.compose_command("up", "--detach", "--wait", "--no-recreate", *scale)

    expected = Counter(
        edge=1, gateway=GATEWAYS, airports=SCALED, trips=1, messages=1, rabbitmq=1
    )  # and none down
    wait_until(
        lambda: prometheus.targets_by_job() == expected,
        DISCOVERY_SECONDS,
        f"Prometheus to scrape {dict(expected)}, every target up",
    )

    # Every rule of alerts.yml is loaded, and none fires on a healthy stack.
    assert prometheus.loaded_rules() == ALERT_NAMES
    assert prometheus.firing() == []
    # The gateway's own check of its Redis, as scraped (one series per gateway).
    assert {value for _, value in prometheus.query("gateway_redis_up")} == {"1"}

    compose_stack.compose_command("stop", "messages")
    wait_until(
        lambda: prometheus.alerting_jobs("ServiceWithoutLiveInstance") == ["messages"],
        DISCOVERY_SECONDS,
        "ServiceWithoutLiveInstance for messages (pending or firing)",
    )


def write_waiting(stack: ComposeStack) -> bool:
    """True once an airports instance's HSET (a create's store write) is held by the pause."""
    for line in redis_cli(stack, "CLIENT", "LIST").splitlines():
        client = dict(field.split("=", 1) for field in line.split())
        if client["cmd"] == "hset" and "b" in client["flags"]:
            return True
    return False


def test_compose_stop_lets_the_call_in_flight_finish(compose_stack, report):
    name = f"In flight {uuid.uuid4().hex[:8]}"
    try:
        with ThreadPoolExecutor(1) as pool:
            redis_cli(compose_stack, "CLIENT", "PAUSE", str(WRITES_PAUSED_MS), "WRITE")
            creating = pool.submit(
                requests.post,
                f"{compose_stack.url}/airport",
                json={"airport": name},
                timeout=HTTP_SECONDS,
            )
            wait_until(lambda: write_waiting(compose_stack), 10, "the create to wait on Redis")
            # SIGTERM to every airports instance; returns once they have all exited.
            compose_stack.compose_command("stop", "airports", capture_output=True)
            response = creating.result()
    finally:
        redis_cli(compose_stack, "CLIENT", "UNPAUSE")

    exit_codes = [c.attrs["State"]["ExitCode"] for c in containers_of(compose_stack, "airports")]
    report(f"compose stop airports with a create in flight: {response.status_code}, {exit_codes}")
    # Stopped, and the one holding the create answered it before exiting: with no
    # airports left, an unanswered call would have been a 504.
    assert set(exit_codes) == {0}, exit_codes  # every instance (scaled or not)
    airport_id = created_id(response)
    stored = read_redis(compose_stack, "redis-airports").entries[f"airport:{airport_id}"]
    assert stored.value == {"name": name}


def test_a_setting_out_of_bounds_stops_the_service_at_start_with_one_line(compose_stack):
    variable, value = OUT_OF_BOUNDS
    # --quiet-build: the lines asserted are the service's, not the image build's progress.
    run = [
        "run",
        "--rm",
        "--no-deps",
        "--quiet-build",
        "-T",
        "-e",
        f"{variable}={value}",
        "airports",
    ]
    started = compose_stack.compose_command(
        *run, check=False, capture_output=True, text=True, timeout=120
    )

    output = (started.stdout + started.stderr).strip().splitlines()
    # compose's own warnings (logfmt: time="..." level=warning ...) are not the service's.
    lines = [line for line in output if not line.startswith('time="')]
    assert started.returncode != 0
    assert len(lines) == 1, lines
    assert f"{variable}={value}" in lines[0]
    assert "65535" in lines[0]


def test_services_stop_gracefully_and_down_leaves_nothing(compose_stack):
    # SIGTERM must reach the service (PID 1 via exec): exit code 0, not 137 from
    # the SIGKILL Docker sends when the grace period runs out.
    compose_stack.compose_command("stop", *OUR_SERVICES)
    exit_codes = {
        (c.labels["com.docker.compose.service"], c.attrs["State"]["ExitCode"])
        for c in compose_stack.containers()
        if c.labels["com.docker.compose.service"] in OUR_SERVICES
    }
    assert exit_codes == {(service, 0) for service in OUR_SERVICES}

    compose_stack.compose.stop()
    assert compose_stack.leftovers() == {"containers": [], "volumes": [], "networks": []}
