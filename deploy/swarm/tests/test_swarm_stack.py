"""deploy/swarm/stack.yaml on a real three-machine Docker Swarm, in the order an operator
lives it: deploy and use, scale, upgrade under load, lose a machine under load, take
it all down. The steps share one deployment and run in file order.

Figures (deploy time, requests and failures during the upgrade and the machine loss,
time until the stream is healthy again) are printed at the end and kept in
docs/scaling.md.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from swarm import docker, elapsed_since, node_state, worker_nodes
from traffic import Traffic, summary

from service_testing.waiting import wait_until

RPC_SERVICES = ("airports", "trips", "messages")
SCALED = 4
STEP_TIMEOUT = 600  # generous: every figure is measured, none is asserted against a clock
# A burst of creates held in flight by a Redis write pause while a machine dies: with
# four airports replicas taking turns, some of them are on the machine that dies.
BURST = 8
WRITES_PAUSED_MS = 15000  # an upper bound: the test unpauses right after the crash
AFTER_RECOVERY_SECONDS = 10  # the stream keeps going this long once all is rescheduled


def created(response: requests.Response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def add_airport(deployed, http: requests.Session, name: str) -> str:
    airport = created(http.post(f"{deployed.url}/airport", json={"airport": name}, timeout=30))
    deployed.airports[airport["id"]] = name
    return airport["id"]


def test_1_deployed_stack_serves_the_walkthrough_and_the_messenger(deployed):
    with requests.Session() as http:
        lisbon = add_airport(deployed, http, "Lisbon")
        porto = add_airport(deployed, http, "Porto")
        trip = created(
            http.post(
                f"{deployed.url}/trip",
                json={"airport_from": lisbon, "airport_to": porto},
                timeout=30,
            )
        )
        deployed.trips[trip["id"]] = trip
        assert http.get(f"{deployed.url}/trip/{trip['id']}", timeout=30).json() == trip
        assert http.get(f"{deployed.url}/airport/{porto}", timeout=30).json() == {
            "id": porto,
            "name": "Porto",
        }
        message = created(
            http.post(f"{deployed.url}/messages", json={"message": "hello, swarm"}, timeout=30)
        )
        deployed.messages[message["id"]] = "hello, swarm"
        listed = http.get(f"{deployed.url}/messages", timeout=30).json()
        assert [(m["id"], m["text"]) for m in listed] == [(message["id"], "hello, swarm")]

    # The gateway runs without its record cache (conftest.py): these reads and every later
    # one reach a replica and its Redis, not the gateway's memory.
    spec_env = docker(
        "service",
        "inspect",
        deployed.stack.service("gateway"),
        "--format",
        "{{json .Spec.TaskTemplate.ContainerSpec.Env}}",
    )
    assert "RECORD_CACHE_SIZE=0" in json.loads(spec_env)

    # The replicas of each RPC service run on different machines.
    for service in RPC_SERVICES:
        nodes = [task.node for task in deployed.stack.running_tasks(service)]
        assert len(nodes) == len(set(nodes)) == 2, (service, nodes)


def test_2_scaled_airports_replicas_consume_the_rpc_queue_and_serve(deployed):
    stack, rabbit = deployed.stack, deployed.rabbit
    started = time.monotonic()
    docker("service", "scale", "--detach", f"{stack.service('airports')}={SCALED}")
    wait_until(lambda: stack.replicas()["airports"] == (SCALED, SCALED), STEP_TIMEOUT, "4 airports")
    wait_until(
        lambda: len(rabbit.consumer_channels("rpc-airports")) == SCALED,
        60,
        f"{SCALED} consumers on rpc-airports",
    )
    scaled_in = elapsed_since(started)
    nodes = {task.node for task in stack.running_tasks("airports")}
    assert len(nodes) == 3, nodes

    # Every consumer, the new ones too, answers its turn of these reads (the broker's
    # statistics lag a few seconds, hence the wait).
    channels = rabbit.consumer_channels("rpc-airports")
    some_id = next(iter(deployed.airports))
    with requests.Session() as http:
        for _ in range(10 * SCALED):
            assert http.get(f"{deployed.url}/airport/{some_id}", timeout=30).status_code == 200
    wait_until(
        lambda: all(rabbit.acknowledged_on(channel) > 0 for channel in channels),
        30,
        "every airports consumer to have answered",
    )
    deployed.measurements.append(
        f"scale: airports 2 -> {SCALED} replicas on {len(nodes)} machines, "
        f"{SCALED} consumers on rpc-airports after {scaled_in} s, each one answering"
    )


def test_3_rolling_upgrade_under_load_answers_every_request(deployed):
    stack = deployed.stack
    old, new = deployed.image("airports", "1.0.0"), deployed.image("airports", "current")
    assert {task.image for task in stack.running_tasks("airports")} == {old}

    started = time.monotonic()
    with Traffic(
        deployed.url,
        deployed.airports,
        max_seconds=STEP_TIMEOUT,
        max_requests=12000,
        label="Upgrade",
    ) as traffic:
        # Blocks until the update has replaced every replica and watched them (or
        # rolled back, which the state below would show).
        docker(
            "service",
            "update",
            "--detach=false",
            "--quiet",
            "--image",
            new,
            stack.service("airports"),
            timeout=STEP_TIMEOUT,
        )
        upgraded_in = elapsed_since(started)
    deployed.airports.update(traffic.created)

    figures = summary(traffic.outcomes)
    deployed.measurements.append(
        f"rolling upgrade airports 1.0.0 -> current, {SCALED} replicas one at a time, "
        f"{upgraded_in} s under load: {figures}"
    )
    # The CLI returns once the tasks converged; the update's own state follows shortly.
    wait_until(
        lambda: stack.update_state("airports") != "updating", 120, "the update to be recorded"
    )
    assert stack.update_state("airports") == "completed"  # not rolled back, not paused
    tasks = stack.running_tasks("airports")
    assert [task.image for task in tasks] == [new] * SCALED, tasks
    assert figures["writes"] > 0, figures
    assert (figures["failed"], figures["5xx"], figures["lost"]) == (0, 0, 0), figures
    assert len(traffic.created) == figures["writes"]


def redis_cli(deployed, container: str, *command: str) -> str:
    """``redis-cli`` in a Redis container as its admin (the password in the environment)."""
    auth = f"REDISCLI_AUTH={deployed.redis_admin_password}"
    return docker("exec", "-e", auth, container, "redis-cli", "--user", "admin", *command)


def in_flight_on(deployed, victim_addresses: set[str]) -> int:
    """Creates of the victim's airports replicas waiting on the paused Redis."""
    redis = deployed.stack.local_container("redis-airports")
    clients = redis_cli(deployed, redis, "client", "list")
    return sum(
        1
        for line in clients.splitlines()
        if "cmd=hset" in line and line.split("addr=")[1].split(":")[0] in victim_addresses
    )


def test_4_machine_loss_under_load_loses_nothing(deployed):
    stack = deployed.stack
    with requests.Session() as http:
        for n in range(5):
            add_airport(deployed, http, f"Before the crash {n}")
        # Messages expire (MESSAGE_TTL_SECONDS, 60 s): these are read back soon after.
        deployed.messages.clear()
        for n in range(3):
            message = created(
                http.post(f"{deployed.url}/messages", json={"message": f"crash {n}"}, timeout=30)
            )
            deployed.messages[message["id"]] = f"crash {n}"

    victim = next(t.node for t in stack.running_tasks("airports") if t.node in worker_nodes())
    victim_addresses = {
        address
        for task in stack.running_tasks("airports")
        if task.node == victim
        for address in stack.task_addresses(task)
    }
    redelivered_before = deployed.rabbit.redelivered("rpc-airports")
    redis = stack.local_container("redis-airports")

    with (
        Traffic(
            deployed.url,
            deployed.airports,
            max_seconds=STEP_TIMEOUT,
            max_requests=12000,
            label="Crash",
        ) as traffic,
        ThreadPoolExecutor(BURST) as pool,
    ):
        wait_until(lambda: traffic.count() >= 20, 60, "the stream to be flowing")
        redis_cli(deployed, redis, "client", "pause", str(WRITES_PAUSED_MS), "write")
        burst = [
            pool.submit(
                requests.post,
                f"{deployed.url}/airport",
                json={"airport": f"Burst {n}"},
                timeout=30,
            )
            for n in range(BURST)
        ]
        wait_until(
            lambda: in_flight_on(deployed, victim_addresses) > 0,
            WRITES_PAUSED_MS / 1000 / 2,
            f"creates in flight on {victim}",
        )
        held_on_victim = in_flight_on(deployed, victim_addresses)
        crashed_at = time.monotonic()
        deployed.machines.crash(victim)
        redis_cli(deployed, redis, "client", "unpause")
        burst_answers = [future.result() for future in burst]
        read_back_messages(deployed)

        wait_until(lambda: node_state(victim) == "down", 60, f"{victim} to be marked down")
        down_after = elapsed_since(crashed_at)
        wait_until(lambda: rescheduled(stack, victim), STEP_TIMEOUT, "tasks rescheduled")
        rescheduled_after = elapsed_since(crashed_at)
        calm = threading.Event()
        calm.wait(AFTER_RECOVERY_SECONDS)

    deployed.airports.update(traffic.created)
    for answer in burst_answers:
        deployed.airports[created(answer)["id"]] = answer.json()["name"]
    wait_until(
        lambda: deployed.rabbit.redelivered("rpc-airports") > redelivered_before,
        30,
        "RabbitMQ to count the redelivered calls",
    )

    outcomes = traffic.outcomes
    failures = [o for o in outcomes if o.failed]
    healthy_after = round(max((o.ended for o in failures), default=crashed_at) - crashed_at, 1)
    slowest = round(max(o.ended - o.started for o in outcomes if o.ended > crashed_at), 1)
    figures = summary(outcomes)
    deployed.measurements.append(
        f"machine loss ({victim} crashed with {held_on_victim} creates in flight on it): "
        f"stream {figures}; burst of {BURST} creates all answered 201; node down after "
        f"{down_after} s, every task rescheduled after {rescheduled_after} s; stream all 2xx "
        f"again {healthy_after} s after the crash (slowest request {slowest} s)"
    )
    assert all(answer.status_code == 201 for answer in burst_answers)
    assert (figures["5xx"], figures["lost"]) == (0, 0), figures
    # Nothing written before (or during) the crash is lost.
    read_back_everything(deployed)


def rescheduled(stack, lost_node: str) -> bool:
    """Every RPC service has all its replicas running again, none on the lost node.

    (The gateways run on the storage node, the edge on every node: it has one fewer.)
    """
    replicas = stack.replicas()
    return all(
        replicas[service][0] == replicas[service][1]
        and all(task.node != lost_node for task in stack.running_tasks(service))
        for service in RPC_SERVICES
    )


def read_back_messages(deployed) -> None:
    with requests.Session() as http:
        for message_id, text in deployed.messages.items():
            response = http.get(f"{deployed.url}/messages/{message_id}", timeout=30)
            assert response.json()["text"] == text


def read_back_everything(deployed) -> None:
    with requests.Session() as http:
        for airport_id, name in deployed.airports.items():
            response = http.get(f"{deployed.url}/airport/{airport_id}", timeout=30)
            assert response.json() == {"id": airport_id, "name": name}
        for trip_id, trip in deployed.trips.items():
            assert http.get(f"{deployed.url}/trip/{trip_id}", timeout=30).json() == trip
    deployed.measurements.append(
        f"read back after the machine loss: {len(deployed.airports)} airports, "
        f"{len(deployed.trips)} trips, {len(deployed.messages)} messages, all intact"
    )


def test_5_down_leaves_nothing_running(deployed):
    from conftest import take_down

    take_down(deployed.stack, deployed.machines)
    assert deployed.stack.leftovers() == {"containers": [], "volumes": []}
    assert docker("info", "--format", "{{.Swarm.LocalNodeState}}").strip() == "inactive"
    assert subprocess.run(["docker", "compose", "version"], check=False).returncode == 0
