"""Driving a real Docker Swarm from the tests: its machines, the stack, its tasks and broker.

The machines come from a tool named by ``SWARM_NODES_TOOL`` (noxfile.py, ``swarm``
session) with this interface: ``up N`` (this engine a manager plus N-1 worker engines),
``load IMAGE...`` (copy local images to the workers), ``crash I`` (machine I dies with
everything on it; machine I's host name ends in I), ``down`` (remove it all).
Everything else goes through the ``docker`` CLI against this (the manager's) engine.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from service_testing.waiting import wait_until

STACK_FILE = Path("deploy/swarm/stack.yaml")
DOCKER_TIMEOUT = 300


def docker(
    *args: str, stdin: str | None = None, timeout: float = DOCKER_TIMEOUT, engine: str = ""
) -> str:
    """Run the docker CLI (against ``engine``, a DOCKER_HOST; this one by default); its
    stdout, or CalledProcessError with its stderr."""
    env = {**os.environ, "DOCKER_HOST": engine} if engine else None
    result = subprocess.run(
        ["docker", *args], input=stdin, capture_output=True, text=True, timeout=timeout, env=env
    )
    if result.returncode != 0:
        raise subprocess.CalledProcessError(
            result.returncode, result.args, result.stdout, result.stderr
        )
    return result.stdout


# Each machine the tool makes is an engine in a network namespace of this name, reached on
# this socket; it keeps its disk (its volumes) from one run of the tool to the next.
MACHINE_NAMESPACE = "swarm-node{number}"
MACHINE_ENGINE = "unix:///run/swarm-node{number}.sock"
MACHINE_PID_FILE = "/run/swarm-node{number}.pid"  # its engine's (the tool's dockerd --pidfile)


def kill_network_namespace(name: str) -> None:
    """SIGKILL the processes of network namespace ``name`` (an engine, containerd and the
    containers' shims) and their children (each container's first process, whose death
    ends the container)."""
    listed = subprocess.run(
        ["ip", "netns", "pids", name], capture_output=True, text=True, check=True, timeout=30
    ).stdout.split()
    members = {int(pid) for pid in listed}
    for pid in members | {pid for pid, parent in process_parents() if parent in members}:
        with contextlib.suppress(ProcessLookupError):  # ended on its own meanwhile
            os.kill(pid, signal.SIGKILL)


def process_parents() -> Iterator[tuple[int, int]]:
    """(pid, parent pid) of every process, read from ``/proc``."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # ended while listed
        # The command name (field 2) may hold spaces and parentheses; the parent pid is
        # the second field after its closing parenthesis.
        yield int(stat.parent.name), int(text[text.rindex(")") + 2 :].split()[1])


@dataclass(frozen=True)
class Machines:
    tool: str

    def run(self, *args: str, timeout: float = 300) -> None:
        # The workers' engines (started by the tool, with this environment) run the images
        # they were given without first trying to pull them from a registry there is none
        # of: each such try waited about a minute for its DNS lookup to time out.
        offline = {**os.environ, "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE": "1"}
        subprocess.run(["bash", self.tool, *args], check=True, timeout=timeout, env=offline)

    def up(self, count: int) -> None:
        self.run("up", str(count))

    def load(self, *images: str) -> None:
        self.run("load", *images, timeout=600)

    def crash(self, hostname: str) -> None:
        """Kill machine ``hostname`` with everything on it.

        The tool's ``crash`` can exit 1 before it kills anything: it lists the machine's
        processes and their children, and fails when the last one listed has none (seen
        in CI with every one of 20 attempts). Then the machine is killed here the way the
        tool does it: SIGKILL every process of its network namespace and their children.

        A machine that lost its power starts again with an empty ``/run``; the tool's leaves
        the dead engine's pid file there. On a busy machine (pid_max 32768) another process
        soon has that pid, and the engine refused to start again ("pid file found": CI)."""
        number = re.fullmatch(r".*?(\d+)", hostname)[1]
        if subprocess.run(["bash", self.tool, "crash", number], timeout=60).returncode != 0:
            kill_network_namespace(MACHINE_NAMESPACE.format(number=number))
        Path(MACHINE_PID_FILE.format(number=number)).unlink(missing_ok=True)

    def engine_of(self, hostname: str) -> str:
        """The DOCKER_HOST of machine ``hostname``."""
        return MACHINE_ENGINE.format(number=re.fullmatch(r".*?(\d+)", hostname)[1])

    def worker_engines(self) -> list[str]:
        """The DOCKER_HOST of each worker machine that is up."""
        return [self.engine_of(hostname) for hostname in sorted(worker_nodes())]

    def down(self) -> None:
        self.run("down", timeout=120)


@dataclass(frozen=True)
class Task:
    id: str
    node: str
    image: str


@dataclass(frozen=True)
class Stack:
    name: str

    def service(self, name: str) -> str:
        return f"{self.name}_{name}"

    def deploy(self, env: dict[str, str]) -> None:
        # No registry: the images are on every node already, never resolved remotely.
        subprocess.run(
            [
                "docker",
                "stack",
                "deploy",
                "--resolve-image",
                "never",
                "-c",
                str(STACK_FILE),
                self.name,
            ],
            env=env,
            check=True,
            timeout=DOCKER_TIMEOUT,
        )

    def replicas(self) -> dict[str, tuple[int, int]]:
        """service -> (running, desired) as ``docker service ls`` counts them."""
        listing = docker(
            "service",
            "ls",
            "--filter",
            f"label=com.docker.stack.namespace={self.name}",
            "--format",
            "{{.Name}} {{.Replicas}}",
        )
        counts = {}
        for line in listing.splitlines():
            name, replicas = line.split()[:2]
            running, desired = replicas.split("/")
            counts[name.removeprefix(f"{self.name}_")] = (int(running), int(desired))
        return counts

    def converged(self) -> bool:
        counts = self.replicas()
        return bool(counts) and all(r == d and d > 0 for r, d in counts.values())

    def running_tasks(self, service: str) -> list[Task]:
        """Tasks the swarm wants running and that are running now."""
        listing = docker(
            "service",
            "ps",
            self.service(service),
            "--no-trunc",
            "--filter",
            "desired-state=running",
            "--format",
            "{{.ID}} {{.Node}} {{.Image}} {{.CurrentState}}",
        )
        tasks = []
        for line in listing.splitlines():
            task_id, node, image, state = line.split(maxsplit=3)
            if state.startswith("Running"):
                tasks.append(Task(task_id, node, image.split("@")[0]))
        return tasks

    def task_addresses(self, task: Task) -> set[str]:
        """The task's addresses on the stack's overlay networks."""
        attachments = json.loads(docker("inspect", "--type", "task", task.id))[0].get(
            "NetworksAttachments", []
        )
        return {a.split("/")[0] for n in attachments for a in n.get("Addresses", [])}

    def update_state(self, service: str) -> str:
        status = docker(
            "service", "inspect", self.service(service), "--format", "{{json .UpdateStatus}}"
        )
        return (json.loads(status) or {}).get("State", "")

    def local_container(self, service: str) -> str:
        """The id of ``service``'s container on this (the manager's) engine."""
        ids = docker(
            "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={self.service(service)}"
        ).split()
        assert len(ids) == 1, f"{service}: expected one container here, found {ids}"
        return ids[0]

    def leftovers(self, engine: str = "") -> dict[str, list[str]]:
        label = f"label=com.docker.stack.namespace={self.name}"
        return {
            "containers": docker("ps", "-aq", "--filter", label, engine=engine).split(),
            "volumes": docker("volume", "ls", "-q", "--filter", label, engine=engine).split(),
        }

    def remove(self) -> None:
        """``docker stack rm``, and wait until its containers on this engine are gone."""
        subprocess.run(["docker", "stack", "rm", self.name], check=False, timeout=120)
        wait_until(lambda: not self.leftovers()["containers"], 120, "the stack's containers to go")

    def remove_volumes(self, engine: str = "") -> None:
        """The stack's volumes on ``engine`` (they outlive the stack on purpose), with the
        stopped containers that hold them."""
        left = self.leftovers(engine)
        if left["containers"]:
            docker("rm", "-f", *left["containers"], engine=engine)
        if left["volumes"]:
            docker("volume", "rm", *left["volumes"], engine=engine)


def node_state(hostname: str) -> str:
    return docker("node", "inspect", hostname, "--format", "{{.Status.State}}").strip()


def worker_nodes() -> set[str]:
    return set(docker("node", "ls", "--filter", "role=worker", "--format", "{{.Hostname}}").split())


def this_node() -> str:
    return docker("info", "--format", "{{.Swarm.NodeID}}").strip()


# Run in RabbitMQ's container: GET the management API at argv[1] with the basic-auth
# token in the environment; print the JSON.
MANAGEMENT_GET = (
    "import os, sys, urllib.request; print(urllib.request.urlopen(urllib.request.Request("
    "'http://127.0.0.1:15672/api/' + sys.argv[1], headers={'Authorization': 'Basic ' + "
    "os.environ['TOKEN']}), timeout=10).read().decode())"
)


@dataclass(frozen=True)
class RabbitApi:
    """The stack's RabbitMQ management API: it listens on its container's loopback only,
    so it is asked from inside the node on this machine (rabbitmq3, storage slot 3), as
    the administrator."""

    stack: Stack
    auth: tuple[str, str]

    def get(self, path: str) -> dict:
        token = base64.b64encode(":".join(self.auth).encode()).decode()
        container = self.stack.local_container("rabbitmq3")
        command = ("exec", "-e", f"TOKEN={token}", container, "python3", "-c", MANAGEMENT_GET, path)
        return json.loads(docker(*command))

    def queue(self, name: str) -> dict:
        return self.get(f"queues/%2F/{quote(name, safe='')}")

    def consumer_channels(self, queue: str) -> list[str]:
        return [c["channel_details"]["name"] for c in self.queue(queue)["consumer_details"]]

    def acknowledged_on(self, channel: str) -> int:
        stats = self.get(f"channels/{quote(channel, safe='')}").get("message_stats", {})
        return int(stats.get("ack", 0))

    def redelivered(self, queue: str) -> int:
        return int(self.queue(queue).get("message_stats", {}).get("redeliver", 0))


def elapsed_since(started: float) -> float:
    return round(time.monotonic() - started, 1)
