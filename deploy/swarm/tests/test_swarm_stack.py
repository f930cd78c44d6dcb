"""deploy/swarm/stack.yaml on a real three-machine Docker Swarm, in the order an operator
lives it: deploy and use, scale, upgrade under load, lose the machine holding the data
under load, get it back, take it all down. The steps share one deployment and run in
file order.

Figures (deploy time, requests and failures during the upgrade and the machine loss,
how long the failover took, time until the stream is healthy again) are printed at the
end and kept in docs/scaling.md.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable

import requests
from swarm import docker, elapsed_since, node_state
from traffic import Traffic, answers, summary

from service_testing.waiting import wait_until

RPC_SERVICES = ("airports", "trips", "messages")
REDIS_SETS = ("airports", "trips", "messages", "gateway")  # Sentinel's names of the sets
SCALED = 4
STEP_TIMEOUT = 600  # generous: every figure is measured, none is asserted against a clock
AFTER_RECOVERY_SECONDS = 10  # the stream keeps going this long once it is all 2xx again
HEALTHY_RUN = 20  # answers in a row, all 2xx, that say the stream is healthy again


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
    old, new = deployed.image("airports", "current"), deployed.image("airports", "upgrade")
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
        f"rolling upgrade of airports, {SCALED} replicas one at a time, "
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


def sentinel(deployed, *command: str) -> list[str]:
    """A command to the Sentinel on this machine (slot 3), its answer's lines."""
    container = deployed.stack.local_container("redis-sentinel-3")
    return docker("exec", container, "redis-cli", "-p", "26379", *command).splitlines()


def primary_of(deployed, redis_set: str) -> str:
    return sentinel(deployed, "sentinel", "get-master-addr-by-name", redis_set)[0]


def addresses_of(deployed, service: str) -> set[str]:
    stack = deployed.stack
    return {a for task in stack.running_tasks(service) for a in stack.task_addresses(task)}


def queue_leaders(deployed) -> dict[str, str]:
    return {s: deployed.rabbit.queue(f"rpc-{s}").get("leader", "") for s in RPC_SERVICES}


# RabbitMQ 3.10 has no command that moves a quorum queue's leader to a given node: this is
# the function its own leader rebalancing calls, run in the node on this machine.
TRANSFER_LEADERSHIP = (
    '{{ok, Q}} = rabbit_amqqueue:lookup(rabbit_misc:r(<<"/">>, queue, <<"{queue}">>)), '
    "rabbit_quorum_queue:transfer_leadership(Q, '{node}')."
)


def lead_every_rpc_queue_from(deployed, node: str) -> None:
    """Make ``node`` the leader of every RPC queue (where the services declared them
    depends on which node answered them first)."""
    container = deployed.stack.local_container("rabbitmq3")
    for service, leader in queue_leaders(deployed).items():
        if leader != node:
            command = TRANSFER_LEADERSHIP.format(queue=f"rpc-{service}", node=node)
            docker("exec", container, "rabbitmqctl", "eval", command)
    wait_until(
        lambda: set(queue_leaders(deployed).values()) == {node}, 60, f"{node} to lead every queue"
    )


def healthy_since(outcomes, after: float) -> float | None:
    """When the last failed request started after ``after`` ended, once ``HEALTHY_RUN``
    answers in a row have been right since; None while not (yet)."""
    later = sorted((o for o in outcomes if o.started > after), key=lambda o: o.started)
    failed = [n for n, o in enumerate(later) if o.failed]
    if len(later) - (failed[-1] + 1 if failed else 0) < HEALTHY_RUN:
        return None
    return later[failed[-1]].ended if failed else after


def test_4_losing_the_storage_machine_under_load_loses_no_write(deployed):
    victim = deployed.slots[1]
    # What the machine holds: every Redis primary (slot 1 starts as the primary) and the
    # leader of every RPC queue.
    primaries = {redis_set: primary_of(deployed, redis_set) for redis_set in REDIS_SETS}
    for redis_set, primary in primaries.items():
        assert primary in addresses_of(deployed, f"redis-{redis_set}-1"), (redis_set, primary)
    # Every RPC queue on all three nodes (each node adds itself to the queues declared
    # before it joined, within a minute), so that one node's loss leaves a majority.
    wait_until(
        lambda: all(
            len(deployed.rabbit.queue(f"rpc-{s}").get("members", [])) == 3 for s in RPC_SERVICES
        ),
        180,
        "every RPC queue to be replicated on the three nodes",
    )
    lead_every_rpc_queue_from(deployed, "rabbit@rabbitmq1")
    leaders = queue_leaders(deployed)

    with Traffic(
        deployed.url, deployed.airports, max_seconds=STEP_TIMEOUT, max_requests=12000, label="Crash"
    ) as traffic:
        wait_until(lambda: traffic.count() >= 20, 60, "the stream to be flowing")
        crashed_at = time.monotonic()
        deployed.machines.crash(victim)
        wait_until(
            lambda: all(primary_of(deployed, s) != primaries[s] for s in REDIS_SETS),
            STEP_TIMEOUT,
            "Sentinel to promote a replica of every Redis set",
        )
        promoted_after = elapsed_since(crashed_at)
        wait_until(
            lambda: "rabbit@rabbitmq1" not in queue_leaders(deployed).values(),
            STEP_TIMEOUT,
            "every RPC queue to have a leader on a surviving node",
        )
        leaders_moved_after = elapsed_since(crashed_at)
        wait_until(
            lambda: healthy_since(list(traffic.outcomes), crashed_at) is not None,
            STEP_TIMEOUT,
            f"{HEALTHY_RUN} right answers in a row",
        )
        threading.Event().wait(AFTER_RECOVERY_SECONDS)

    outcomes = traffic.outcomes
    failed = sorted((o for o in outcomes if o.failed), key=lambda o: o.started)
    healthy_after = round(max((o.ended for o in failed), default=crashed_at) - crashed_at, 1)
    timeline = [
        (
            round(o.started - crashed_at, 1),
            round(o.ended - o.started, 1),
            o.method,
            o.status,
            o.error,
        )
        for o in failed
    ]
    deployed.airports.update(traffic.created)
    # Every write without a 201 sent again, as a client would, with its Idempotency-Key:
    # while it gets a 503 or 504 (the failover may not be over on a busy machine), again.
    with requests.Session() as http:
        resent = [
            (
                name,
                until_answered(
                    lambda key=key, name=name: http.post(
                        f"{deployed.url}/airport",
                        json={"airport": name},
                        headers={"Idempotency-Key": key},
                        timeout=30,
                    )
                ),
            )
            for key, name in traffic.unanswered.items()
        ]
    resent_answers = dict(Counter(answer.status_code for _, answer in resent))
    deployed.measurements.append(
        f"storage machine {victim} lost (all {len(REDIS_SETS)} Redis primaries, RabbitMQ "
        f"leader of {list(leaders.values()).count('rabbit@rabbitmq1')} of {len(leaders)} RPC "
        f"queues): stream {answers(outcomes)}; Sentinel promoted every set after "
        f"{promoted_after} s, queue leaders moved after {leaders_moved_after} s, stream all "
        f"2xx again {healthy_after} s after the crash; {len(resent)} writes without a 201 "
        f"resent with their Idempotency-Key: {resent_answers}; failures (started s after "
        f"the crash, s taken, method, status, answer): {timeline[:20]}"
    )
    # During the failover every call got its answer within its bounds: a 503 or a 504, never
    # a 500 or a 502, never a hang. Only a request whose gateway died with the machine may
    # instead find its connection closed by the edge (seen once in 156 requests, at once:
    # not a hang); the client sends it again like a 503.
    assert {o.status for o in outcomes if o.failed} <= {503, 504, 0}, answers(outcomes)
    assert all(
        "RemoteDisconnected" in o.error and o.ended - o.started < 1
        for o in outcomes
        if o.status == 0
    ), [o.error for o in outcomes if o.status == 0]
    for name, answer in resent:
        body = created(answer)
        assert body.get("name") == name, body
        deployed.airports[body["id"]] = name
    # Every write answered 201, before the crash or after it, reads back.
    read_back_everything(deployed, "after the machine loss")


RESEND_SECONDS = 120


def until_answered(send: Callable[[], requests.Response]) -> requests.Response:
    """``send()`` again while the answer is 503 or 504, a second apart, at most
    ``RESEND_SECONDS``: what a client does with a retryable answer (the failover may not
    be over on a busy machine, and a process may meet a lost node once more after it)."""
    give_up = time.monotonic() + RESEND_SECONDS
    while True:
        answer = send()
        if answer.status_code not in (503, 504) or time.monotonic() > give_up:
            return answer
        threading.Event().wait(1)


def test_5_the_lost_machine_rejoins_and_nothing_is_lost_or_duplicated(deployed):
    stack, machine = deployed.stack, deployed.slots[1]
    started = time.monotonic()
    try:
        deployed.machines.up(3)  # the machine starts again, with its disk
    except subprocess.CalledProcessError:
        # On a busy machine its engine can take longer to start than the tool waits for:
        # given two minutes more, then the tool's `up` (idempotent) finishes its work.
        engine = deployed.machines.engine_of(machine)
        wait_until(lambda: engine_answers(engine), 120, f"{machine}'s engine to answer")
        deployed.machines.up(3)
    wait_until(lambda: node_state(machine) == "ready", STEP_TIMEOUT, f"{machine} to be back")
    wait_until(
        lambda: (
            all(node.get("running") for node in deployed.rabbit.get("nodes"))
            and len(deployed.rabbit.get("nodes")) == 3
        ),
        STEP_TIMEOUT,
        "rabbit@rabbitmq1 to rejoin its cluster",
    )
    rabbitmq_after = elapsed_since(started)

    def rejoined_as_replica(redis_set: str) -> bool:
        """The returning Redis of the set is a replica, in sync with the promoted primary."""
        returned = addresses_of(deployed, f"redis-{redis_set}-1")
        # Flat field-value pairs, one group per replica Sentinel knows, each from "name".
        lines = sentinel(deployed, "sentinel", "replicas", redis_set)
        groups = [n for n, line in enumerate(lines) if line == "name" and n % 2 == 0]
        replicas = [
            dict(zip(lines[start:end:2], lines[start + 1 : end : 2], strict=True))
            for start, end in zip(groups, [*groups[1:], len(lines)], strict=True)
        ]
        return any(
            replica.get("ip") in returned
            and replica.get("flags") == "slave"
            and replica.get("master-link-status") == "ok"
            for replica in replicas
        )

    wait_until(
        lambda: all(rejoined_as_replica(s) for s in REDIS_SETS),
        STEP_TIMEOUT,
        "every returning Redis to be a replica of the promoted primary",
    )
    redis_after = elapsed_since(started)
    read_back_everything(deployed, "after the machine's return")
    # Nothing twice: as many airports stored as were created (an id derives from its
    # Idempotency-Key, so a create sent twice is one airport).
    replica = stack.local_container("redis-airports-3")
    stored = redis_cli(deployed, replica, "--scan", "--pattern", "*airport:*").split()
    assert len(stored) == len(deployed.airports), (len(stored), len(deployed.airports))
    deployed.measurements.append(
        f"rejoin: {machine} started again; its RabbitMQ node back in the cluster after "
        f"{rabbitmq_after} s, every one of its Redis a replica of the promoted primary after "
        f"{redis_after} s; {len(stored)} airports stored, as many as created"
    )


def engine_answers(engine: str) -> bool:
    try:
        docker("info", engine=engine, timeout=10)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return False
    return True


READ_BACK_SECONDS = 600  # every record read back within this, or the test says which were slow


def read_back_everything(deployed, when: str) -> None:
    """Every airport and trip written reads back intact. Each read is sent again while it
    gets a 503 or 504 (``until_answered``); all of them within ``READ_BACK_SECONDS``, or
    the test fails naming the answers and the slowest reads rather than running into the
    session's timeout."""
    expected = [(f"/airport/{i}", {"id": i, "name": n}) for i, n in deployed.airports.items()]
    expected += [(f"/trip/{i}", trip) for i, trip in deployed.trips.items()]
    started = time.monotonic()
    reads: list[tuple[float, str, int]] = []  # seconds taken, path, final status
    with requests.Session() as http:
        for path, record in expected:
            assert time.monotonic() - started < READ_BACK_SECONDS, (
                f"read back {when}: {len(reads)} of {len(expected)} in {READ_BACK_SECONDS} s; "
                f"answers {Counter(status for *_, status in reads)}, slowest {sorted(reads)[-10:]}"
            )
            sent = time.monotonic()
            answer = until_answered(lambda path=path: http.get(deployed.url + path, timeout=30))
            reads.append((round(time.monotonic() - sent, 1), path, answer.status_code))
            assert answer.json() == record, (path, answer.status_code, answer.text)
    deployed.measurements.append(
        f"read back {when}: {len(deployed.airports)} airports, {len(deployed.trips)} trips, "
        f"all intact, in {elapsed_since(started)} s (slowest read {max(reads)[0]} s)"
    )


def test_6_down_leaves_nothing_running(deployed):
    from conftest import take_down

    take_down(deployed.stack, deployed.machines)
    assert deployed.stack.leftovers() == {"containers": [], "volumes": []}
    assert docker("info", "--format", "{{.Swarm.LocalNodeState}}").strip() == "inactive"
    assert subprocess.run(["docker", "compose", "version"], check=False).returncode == 0
