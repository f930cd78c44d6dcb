"""Our stack against the Nameko tutorial's design, measured in one run, interleaved.

`nox -s bench` starts both side by side (each its own RabbitMQ vhost, Redis key
prefix and port): ours through the production path, the real edge (HAProxy running
deploy/edge/haproxy.cfg, as service_testing.edge starts it for the tests) in front of
the devstack's gateway; the baseline (benchmarks/baseline/tutorial.py) direct, as a
tutorial user runs it. It pre-creates airports in both, then drives every case with
wrk (benchmarks/case.lua) for a fixed duration, for several rounds. Within a round
each stack's run of a case is cut into one-second slices taken in turn (ours,
baseline, baseline, ours, ...) and pooled, so a drift in the machine's speed hits
both alike. Every figure is reported as a ratio against the baseline's figure from
the same round; the table says for each target whether it holds. Then the worst
bodies each body check can be sent (benchmarks/hostile_bodies.py) go to our stack
in parallel while /health is timed. A full run is written to benchmarks/results/
(JSON and a chart, replacing the previous ones: the history is in git).

`nox -s bench -- --smoke` (the CI session `bench-smoke`) runs the same code with
tiny counts and durations, writing only to its scratch directory: it proves the
bench works and fails when a case served nothing or anything but the answers it
expects (no timing is asserted).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
import requests

from airports.store import AirportStore
from contracts.airports.v1 import Airport
from messages.store import MessageStore
from service_testing.edge import EDGE_CONFIG, running_edge
from service_testing.local_brokers import local_amqp_uri, local_rabbit_api_uri, local_redis_url
from service_testing.ports import free_port
from service_testing.redis_keys import deleting_keys
from service_testing.services import REPO_ROOT
from service_testing.vhosts import throwaway_vhost

# tools/ for the devstack's isolated runner; the bench's own modules sit beside this file.
sys.path.insert(0, str(REPO_ROOT / "tools"))
from chart import write_chart
from hostile_bodies import HOSTILE_CASE, HostileResults, measure_hostile_bodies, print_hostile
from isolated_stack import isolated_stack
from load import Case, Sample, format_sample, pooled, problems, run_wrk, with_cpu

BENCH = REPO_ROOT / "benchmarks"
RESULTS = BENCH / "results"  # the latest full run only
BASELINE_DIR = BENCH / "baseline"
READY_TIMEOUT_SECONDS = 120
# Live messages stay for the whole run (the default 60 s would expire the listing's).
MESSAGE_TTL_SECONDS = "3600"
OURS_ENVIRONMENT = {
    # The edge connects from 127.0.0.1: the gateway believes its X-Forwarded-For, as
    # compose's gateway believes the edge's (TRUSTED_PROXIES: edge).
    "TRUSTED_PROXIES": "127.0.0.1",
    # Every wrk connection is one client address: a bucket that never empties keeps
    # POST /messages a write (the limiter's Redis script still runs), not a flood of 429s.
    "MESSAGE_RATE_LIMIT_BURST": "1000000000",
}
WRITERS = 16  # concurrent writers filling the message list
PING_CASE = "airports.ping RPC, 1 caller"
LISTING_CASE = "GET /messages?limit=50"


@dataclass(frozen=True)
class Profile:
    duration_s: int
    rounds: int
    cold_ids: int
    listing_sizes: tuple[int, ...]
    ping_calls: int
    settle_s: float
    slices: int  # each stack's run of a paired case, cut into this many, taken in turn
    hostile_s: int  # each worst body's run, /health timed alongside
    only: str = ""  # run only the cases whose name contains this (A/B runs of one lever)

    def selected(self, case: str) -> bool:
        return self.only in case


FULL = Profile(
    duration_s=5,
    rounds=3,
    cold_ids=10_000,
    listing_sizes=(100, 10_000, 100_000),
    ping_calls=500,
    settle_s=1.0,
    slices=5,
    hostile_s=3,
)
SMOKE = Profile(
    duration_s=1,
    rounds=1,
    cold_ids=50,
    listing_sizes=(10, 20, 40),
    ping_calls=20,
    settle_s=0.2,
    slices=1,
    hostile_s=1,
)


@dataclass
class Stack:
    name: str
    url: str
    amqp_uri: str
    pids: list[int]  # the service processes
    ready_s: float
    route: str  # how a request reaches the stack (printed above the table)
    edge_pid: int | None = None
    hot_id: str = ""
    ids_file: str = ""
    trip_body: str = ""
    messages: MessageStore | None = None  # ours: writes live messages for the listing

    def cpu_groups(self) -> dict[str, list[int]]:
        """The stack's own processes whose CPU time is read around a case."""
        edge = {"edge": [self.edge_pid]} if self.edge_pid is not None else {}
        return {"services": self.pids, **edge}


@dataclass
class Results:
    profile: str
    started: str
    machine: dict[str, object]
    samples: dict[str, dict[str, list[Sample]]] = field(default_factory=dict)
    ping: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    listing: dict[str, list[Sample]] = field(default_factory=dict)
    rss_mb: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    ready_s: dict[str, float] = field(default_factory=dict)
    targets: list[dict[str, object]] = field(default_factory=list)
    ours_environment: dict[str, str] = field(default_factory=dict)
    against_ours: dict[str, str] = field(default_factory=dict)
    against_direct: bool = False  # the A/B's side has no edge in front

    @property
    def ab(self) -> bool:
        """The "baseline" columns are our own stack (changed), not the tutorial's."""
        return bool(self.against_ours) or self.against_direct

    only: str = ""
    routes: dict[str, str] = field(default_factory=dict)
    hostile: HostileResults | None = None
    problems: list[str] = field(default_factory=list)  # what a smoke run fails on

    def add(self, stack: str, case: str, sample: Sample) -> None:
        self.samples.setdefault(case, {}).setdefault(stack, []).append(sample)


SHARED_COMMANDS = {"broker": "beam.smp", "redis": "redis-server"}


def pid_cgroup(pid: str) -> str:
    lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    return next((line for line in lines if ":pids:" in line), "")


def shared_processes() -> dict[str, list[int]]:
    """The local RabbitMQ's and Redis's processes, by group (none when not local).

    Only those in the bench's own pid cgroup: containers (other work on a shared
    machine) run brokers too, and come and go during a run."""
    ours = pid_cgroup("self")
    found: dict[str, list[int]] = {}
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            command = comm.read_text().strip()
            if pid_cgroup(comm.parent.name) != ours:
                continue
        except OSError:
            continue  # ended while listed
        for group, expected in SHARED_COMMANDS.items():
            if command == expected:
                found.setdefault(group, []).append(int(comm.parent.name))
    return found


def run_case(stack: Stack, case: Case, duration_s: int, shared: dict[str, list[int]]) -> Sample:
    """One wrk run, with the CPU time each group of processes spent per request."""
    return with_cpu({**stack.cpu_groups(), **shared}, lambda: run_wrk(stack.url, case, duration_s))


def rpc_ping(amqp_uri: str, calls: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, str(BENCH / "rpc_ping.py"), amqp_uri, "airports", str(calls)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- stacks -------------------------------------------------------------------------


def write_ids(ids: list[str]) -> str:
    handle = tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False)  # noqa: SIM115
    with handle:
        handle.write("\n".join(ids) + "\n")
    return handle.name


def create_our_airports(redis_url: str, prefix: str, count: int) -> list[str]:
    """``count`` airports written through the airports service's own store (one pipeline)."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    with client, client.pipeline(transaction=False) as pipe:
        store = AirportStore(pipe, prefix, {})
        ids = [uuid.uuid4().hex for _ in range(count)]
        for number, airport_id in enumerate(ids):
            store.write(Airport(id=airport_id, name=f"Airport {number}"), only_if_new=False)
        pipe.execute()
    return ids


def create_baseline_airports(redis_url: str, prefix: str, count: int) -> list[str]:
    """``count`` airports in the tutorial's layout (tutorial.airport_key: prefix + id)."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    with client, client.pipeline(transaction=False) as pipe:
        ids = [uuid.uuid4().hex for _ in range(count)]
        for number, airport_id in enumerate(ids):
            pipe.set(prefix + airport_id, f"Airport {number}")
        pipe.execute()
    return ids


def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} was not ready within {READY_TIMEOUT_SECONDS}s")


@contextmanager
def our_stack(
    redis_url: str,
    airports: int,
    name: str = "ours",
    through_edge: bool = True,
    **environment: str,
) -> Iterator[Stack]:
    """The devstack behind the real edge: every request of the bench crosses HAProxy
    (``through_edge=False``: the gateway direct, to A/B what the edge costs)."""
    with ExitStack() as cleanup:
        # Our own vhost and prefix (they override isolated_stack's), so the bench can
        # write through the stores and call the services' RPC itself.
        amqp_uri = cleanup.enter_context(
            throwaway_vhost(local_amqp_uri(), local_rabbit_api_uri(), "bench_ours_")
        )
        prefix = cleanup.enter_context(deleting_keys(redis_url, f"bench:ours:{uuid.uuid4().hex}:"))
        ids = create_our_airports(redis_url, prefix, airports)
        # Each process logs to a file, as the baseline's do: relayed through the devstack
        # to this process, every line would wake two more Python processes.
        logs = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-ours-")))
        running = cleanup.enter_context(
            isolated_stack(
                AMQP_URI=amqp_uri,
                REDIS_KEY_PREFIX=prefix,
                MESSAGE_TTL_SECONDS=MESSAGE_TTL_SECONDS,
                **{"DEVSTACK_LOG_DIR": str(logs), **OURS_ENVIRONMENT, **environment},
            )
        )
        gateway = urlsplit(running.url).netloc
        processes = f"{len(running.service_pids)} service processes"
        # From the first service's start (the devstack's figure: a first run's install of
        # the services' venvs is not start-up time).
        stack = Stack(
            name,
            running.url,
            amqp_uri,
            running.service_pids,
            running.ready_seconds,
            f"direct: gateway {gateway}, no edge ({processes})",
        )
        if through_edge:
            # Every wrk connection is one client making thousands of creates a minute: the
            # edge's per-client create limit (a person's bound) would answer them 429, so the
            # bench lifts it, as it does the messages rate limit.
            edge = cleanup.enter_context(
                running_edge(gateway, logs, EDGE_MAX_CREATES_PER_MINUTE="1000000000")
            )
            stack.url, stack.edge_pid = edge.url, edge.pid
            stack.route = (
                f"through the edge: {edge.url} (HAProxy, {EDGE_CONFIG.relative_to(REPO_ROOT)})"
                f" -> gateway {gateway} ({processes})"
            )
            require_edge_in_front(stack)
        stack.hot_id, stack.ids_file = ids[0], write_ids(ids)
        trip = requests.post(
            f"{stack.url}/trip", json={"airport_from": ids[0], "airport_to": ids[1]}, timeout=30
        )
        trip.raise_for_status()
        stack.trip_body = json.dumps({"airport_from": ids[0], "airport_to": ids[1]})
        stack.messages = MessageStore(
            redis.Redis.from_url(redis_url, decode_responses=True),
            prefix,
            {"MESSAGE_TTL_SECONDS": float(MESSAGE_TTL_SECONDS)},
        )
        try:
            yield stack
        finally:
            running.stop()
            os.unlink(stack.ids_file)


@contextmanager
def baseline_stack(redis_url: str, airports: int) -> Iterator[Stack]:
    """The tutorial's gateway and airports as two ``nameko run`` processes."""
    with ExitStack() as cleanup:
        amqp_uri = cleanup.enter_context(
            throwaway_vhost(local_amqp_uri(), local_rabbit_api_uri(), "bench_baseline_")
        )
        prefix = cleanup.enter_context(
            deleting_keys(redis_url, f"bench:baseline:{uuid.uuid4().hex}:")
        )
        ids = create_baseline_airports(redis_url, prefix, airports)
        port = free_port()
        env = {
            **os.environ,
            "AMQP_URI": amqp_uri,
            "REDIS_URL": redis_url,
            "BASELINE_KEY_PREFIX": prefix,
            "BASELINE_PORT": str(port),
        }
        # Their logs (nameko's at INFO, an access line per request) go to files, as ours do.
        logs = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-baseline-")))
        started = time.monotonic()
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-W",
                    "ignore",
                    "-m",
                    "nameko",
                    "run",
                    "--config",
                    "config.yaml",
                    f"tutorial:{service}",
                ],
                cwd=BASELINE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for service in ("AirportsService", "GatewayService")
            for log in [cleanup.enter_context((logs / f"{service}.log").open("w"))]
        ]
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for(
                lambda: requests.get(f"{url}/airport/{ids[0]}", timeout=2).status_code == 200,
                "the baseline stack",
            )
            route = f"direct: {url} (nameko run, the tutorial's gateway)"
            stack = Stack("baseline", url, amqp_uri, [p.pid for p in processes], 0.0, route)
            stack.ready_s = time.monotonic() - started
            stack.hot_id, stack.ids_file = ids[0], write_ids(ids)
            yield stack
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if "stack" in locals():
                os.unlink(stack.ids_file)


EDGE_ONLY_HEADER = "X-Frame-Options"  # set by deploy/edge/haproxy.cfg, never by the gateway


def require_edge_in_front(stack: Stack) -> None:
    """Proof that the stack's URL is the edge's: a header only the edge writes."""
    answer = requests.get(f"{stack.url}/health", timeout=10)
    if answer.status_code != 200 or EDGE_ONLY_HEADER not in answer.headers:
        raise RuntimeError(f"{stack.url} is not the edge: {answer.status_code} {answer.headers}")


SERVICE_TARGET = re.compile(rb"[\w.]+:\w+")  # nameko run's "module:Class"


def rss_by_process(stack: Stack) -> dict[str, float]:
    """Resident memory (MB) of each service process, named by its ``nameko run`` target."""
    sizes: dict[str, float] = {}
    for pid in stack.pids:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        target = next(a.decode() for a in cmdline if SERVICE_TARGET.fullmatch(a))
        name = f"{target.split(':')[1]} ({pid})"
        status = Path(f"/proc/{pid}/status").read_text()
        kb = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
        sizes[name] = kb / 1024
    return sizes


# --- cases --------------------------------------------------------------------------


def paired_cases(stack: Stack) -> list[Case]:
    """The cases both stacks serve."""
    airport = f"/airport/{stack.hot_id}"
    new_airport = json.dumps({"airport": "Bench Airport"})
    return [
        Case("GET /health (no RPC)", 50, "/health"),
        Case("GET /airport/<id> hot, 1 conn", 1, airport),
        Case("GET /airport/<id> hot, 50 conns", 50, airport),
        Case("GET /airport/<id> cold, 1 conn", 1, "/airport/", ids=stack.ids_file),
        Case("GET /airport/<id> cold, 50 conns", 50, "/airport/", ids=stack.ids_file),
        Case("POST /airport, 50 conns", 50, "/airport", "POST", new_airport),
    ]


def our_cases(stack: Stack) -> list[Case]:
    """Cases only our stack serves (compared with the baseline's POST /airport)."""
    return [
        Case("POST /trip, 50 conns", 50, "/trip", "POST", stack.trip_body),
        Case("POST /messages, 50 conns", 50, "/messages", "POST", json.dumps({"message": "hi"})),
    ]


def measure_rounds(ours: Stack, baseline: Stack, profile: Profile, results: Results) -> None:
    for number in range(profile.rounds):
        print(f"\n--- round {number + 1}/{profile.rounds}", flush=True)
        shared = shared_processes()  # listed again: a broker's helper processes come and go
        pairs = zip(paired_cases(ours), paired_cases(baseline), strict=True)
        if baseline.trip_body:  # an A/B of our stack against itself: every case is paired
            pairs = zip(
                paired_cases(ours) + our_cases(ours),
                paired_cases(baseline) + our_cases(baseline),
                strict=True,
            )
        for our_case, base_case in ((o, b) for o, b in pairs if profile.selected(o.name)):
            pair = ((ours, our_case), (baseline, base_case))
            taken = run_interleaved(pair, profile, shared, number)
            for (stack, case), sample in zip(pair, taken, strict=True):
                results.add(stack.name, case.name, sample)
                results.problems += problems(f"{stack.name} {case.name}", sample)
                print(f"{stack.name:9} {case.name:36} {format_sample(sample)}", flush=True)
            time.sleep(profile.settle_s)
        unpaired = () if baseline.trip_body else our_cases(ours)
        for case in filter(lambda case: profile.selected(case.name), unpaired):
            sample = run_case(ours, case, profile.duration_s, shared)
            results.add(ours.name, case.name, sample)
            results.problems += problems(f"{ours.name} {case.name}", sample)
            print(f"{ours.name:9} {case.name:36} {format_sample(sample)}", flush=True)
            time.sleep(profile.settle_s)
        for stack in (ours, baseline) if profile.selected(PING_CASE) else ():
            ping = rpc_ping(stack.amqp_uri, profile.ping_calls)
            results.ping.setdefault(stack.name, []).append(ping)
            print(f"{stack.name:9} {PING_CASE:36} p50 {ping['p50_us']:.0f} us")


def run_interleaved(
    pair: tuple[tuple[Stack, Case], tuple[Stack, Case]],
    profile: Profile,
    shared: dict[str, list[int]],
    round_number: int,
) -> list[Sample]:
    """Each stack's run of one case, cut into ``profile.slices`` slices taken in turn
    (A B B A A ..., who starts alternating by round) and pooled: the machine's speed
    drifts by tens of percent over seconds, and slices a second apart see the same."""
    slices: list[list[Sample]] = [[], []]
    seconds = profile.duration_s // profile.slices
    for number in range(profile.slices):
        turn = (0, 1) if (number + round_number) % 2 == 0 else (1, 0)
        for side in turn:
            stack, case = pair[side]
            slices[side].append(run_case(stack, case, seconds, shared))
    return [pooled(taken) for taken in slices]


def measure_listing(ours: Stack, profile: Profile, results: Results) -> None:
    """``GET /messages?limit=50`` as the number of live messages grows (ours only).

    Messages cannot be taken away again, so the sizes run in increasing order
    (not interleaved), each measured ``rounds`` times.
    """
    store = ours.messages
    assert store is not None
    if not profile.selected(LISTING_CASE):
        return
    live = 0
    for size in profile.listing_sizes:
        print(f"\n--- listing with {size} live messages", flush=True)
        # Through the messages service's own store; a few writers at once, as each
        # save is a round trip (MULTI) of its own.
        with ThreadPoolExecutor(WRITERS) as writers:
            list(writers.map(lambda _: store.create(text="bench message"), range(size - live)))
        live = size
        case = Case(f"{LISTING_CASE}, {size} live", 50, "/messages?limit=50")
        for _ in range(profile.rounds):
            sample = run_wrk(ours.url, case, profile.duration_s)
            results.listing.setdefault(str(size), []).append(sample)
            results.problems += problems(f"{ours.name} {case.name}", sample)
            print(f"{ours.name:9} {case.name:36} {format_sample(sample)}", flush=True)
            time.sleep(profile.settle_s)


# --- report -------------------------------------------------------------------------


def median_of(samples: list[Sample], metric: str) -> float:
    return statistics.median(getattr(sample, metric) for sample in samples)


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if len(values) > 1 else "-"


def ratio(numerator: float, denominator: float) -> float:
    # A smoke run's one-second case can finish no request at all.
    return numerator / denominator if denominator else float("nan")


def ratios(ours: list[Sample], baseline: list[Sample], metric: str) -> list[float]:
    """Per-round ratios ours/baseline (each round's two runs sat side by side)."""
    return [
        ratio(getattr(o, metric), getattr(b, metric)) for o, b in zip(ours, baseline, strict=True)
    ]


@dataclass(frozen=True)
class Target:
    name: str
    case: str
    metric: str
    bound: float
    at_least: bool
    against: str = ""  # the baseline's case, when not the same case


TARGETS = (
    Target("hot GET, 50 conns: req/s", "GET /airport/<id> hot, 50 conns", "rps", 2.0, True),
    Target("hot GET, 50 conns: p99", "GET /airport/<id> hot, 50 conns", "p99_ms", 0.6, False),
    Target("cold GET, 50 conns: req/s", "GET /airport/<id> cold, 50 conns", "rps", 1.2, True),
    Target("hot GET, 1 conn: p50", "GET /airport/<id> hot, 1 conn", "p50_ms", 0.85, False),
    Target("cold GET, 1 conn: p50", "GET /airport/<id> cold, 1 conn", "p50_ms", 0.85, False),
    Target("POST /airport, 50 conns: req/s", "POST /airport, 50 conns", "rps", 1.2, True),
    Target(
        "POST /trip vs baseline POST /airport: req/s",
        "POST /trip, 50 conns",
        "rps",
        1.0,
        True,
        against="POST /airport, 50 conns",
    ),
)
LISTING_BOUND = 2.0
RSS_BOUND_MB = 60.0


def evaluate(results: Results) -> None:
    if results.ab:
        return  # the targets are against the tutorial's design, not against ourselves
    for target in TARGETS:
        if target.case not in results.samples or (target.against or target.case) not in (
            results.samples
        ):
            continue  # not selected in this run
        ours = results.samples[target.case]["ours"]
        baseline = results.samples[target.against or target.case]["baseline"]
        per_round = ratios(ours, baseline, target.metric)
        value = statistics.median(per_round)
        holds = value >= target.bound if target.at_least else value <= target.bound
        results.targets.append(
            {
                "target": f"{target.name} {'>=' if target.at_least else '<='} {target.bound}x",
                "measured": f"{value:.2f}x (rounds {spread(per_round)})",
                "holds": holds,
                # for the chart: the ratio against the baseline, its rounds and its bound
                "name": target.name,
                "ratio": value,
                "rounds": per_round,
                "bound": target.bound,
                "at_least": target.at_least,
            }
        )
    sizes = list(results.listing)
    if sizes:
        smallest, largest = results.listing[sizes[0]], results.listing[sizes[-1]]
        growth = ratio(median_of(largest, "p50_ms"), median_of(smallest, "p50_ms"))
        results.targets.append(
            {
                "target": f"listing p50, {sizes[-1]} / {sizes[0]} live messages"
                f" <= {LISTING_BOUND}x",
                "measured": f"{growth:.2f}x",
                "holds": growth <= LISTING_BOUND,
            }
        )
    ours_rss = max(
        size for moment in results.rss_mb.get("ours", {}).values() for size in moment.values()
    )
    results.targets.append(
        {
            "target": f"idle RSS of every service process <= {RSS_BOUND_MB:.0f} MB",
            "measured": f"largest {ours_rss:.1f} MB",
            "holds": ours_rss <= RSS_BOUND_MB,
        }
    )


def median_cpu(samples: list[Sample], group: str) -> str:
    values = [sample.cpu_us[group] for sample in samples if group in sample.cpu_us]
    return f"{statistics.median(values):9.0f}" if values else f"{'-':>9}"


def print_cpu(results: Results) -> None:
    """CPU time per request of each stack's services, of our edge and of the shared
    broker and Redis."""
    groups = ("services", "edge", *SHARED_COMMANDS)
    stacks = ("ours", "baseline")
    width = 9 * len(groups)
    print(f"\n{'CPU us per request (medians)':36}" + "".join(f"{s:>{width}}" for s in stacks))
    print(f"{'case':36}" + "".join(f"{group:>9}" for group in groups) * len(stacks))
    for case, by_stack in results.samples.items():
        line = "".join(
            median_cpu(by_stack[stack], group) if stack in by_stack else " " * 9
            for stack in stacks
            for group in groups
        )
        print(f"{case:36}{line}".rstrip())


def print_report(results: Results) -> None:
    print(f"\n== {results.profile} run, {results.started}, load {results.machine['load']}")
    for stack, route in results.routes.items():
        print(f"{stack}: {route}")
    if results.only or results.ours_environment or results.ab:
        print(f"only cases with {results.only!r}; our stack with {results.ours_environment}")
    if results.ab:
        edge = ", without the edge" if results.against_direct else ""
        print(f"A/B: the 'base' columns are our stack with {results.against_ours}{edge}")
    header = (
        f"{'case':36} {'req/s ours':>10} {'base':>7} {'ratio':>6} {'spread':>10}"
        f" {'p50 ms':>7} {'base':>6} {'p99 ms':>7} {'base':>6} {'p99 ratio':>9}"
    )
    print(header)
    for case, by_stack in results.samples.items():
        ours = by_stack["ours"]
        baseline = by_stack.get("baseline")
        line = f"{case:36} {median_of(ours, 'rps'):10.0f}"
        if baseline:
            rps = ratios(ours, baseline, "rps")
            p99 = ratios(ours, baseline, "p99_ms")
            line += (
                f" {median_of(baseline, 'rps'):7.0f} {statistics.median(rps):6.2f}"
                f" {spread(rps):>10} {median_of(ours, 'p50_ms'):7.2f}"
                f" {median_of(baseline, 'p50_ms'):6.2f} {median_of(ours, 'p99_ms'):7.2f}"
                f" {median_of(baseline, 'p99_ms'):6.2f} {statistics.median(p99):9.2f}"
            )
        else:
            line += (
                f" {'':7} {'':6} {'':>10} {median_of(ours, 'p50_ms'):7.2f}"
                f" {'':6} {median_of(ours, 'p99_ms'):7.2f}"
            )
        print(line)
    print_cpu(results)
    for size, samples in results.listing.items():
        name = f"GET /messages?limit=50, {size} live"
        print(
            f"{name:36} {median_of(samples, 'rps'):10.0f} {'':7} {'':6} {'':>10}"
            f" {median_of(samples, 'p50_ms'):7.2f} {'':6} {median_of(samples, 'p99_ms'):7.2f}"
        )
    for stack, pings in results.ping.items():
        p50 = statistics.median(ping["p50_us"] for ping in pings) / 1000
        p99 = statistics.median(ping["p99_us"] for ping in pings) / 1000
        print(f"airports.ping raw RPC ({stack}): p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    for stack, seconds in results.ready_s.items():
        print(f"start to ready ({stack}): {seconds:.1f} s")
    for stack, moments in results.rss_mb.items():
        for moment, sizes in moments.items():
            listed = ", ".join(f"{name} {mb:.1f}" for name, mb in sizes.items())
            print(f"RSS MB {stack}, {moment}: {listed}")
    if results.hostile is not None:
        print_hostile(results.hostile)
    print(f"\n{'target':66} {'measured':26} holds")
    for target in results.targets:
        print(f"{target['target']:66} {target['measured']:26} {'yes' if target['holds'] else 'NO'}")
    for problem in results.problems:
        print(f"PROBLEM: {problem}")


def without_latencies(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """``asdict``'s dict factory: every sample without its recorded latencies."""
    return {key: value for key, value in items if key != "latency_us"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny counts and durations (CI)")
    parser.add_argument("--only", default="", help="only the cases whose name contains this")
    parser.add_argument(
        "--against-ours",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="A/B: compare with our own stack run with this environment, not the baseline",
    )
    parser.add_argument(
        "--against-direct",
        action="store_true",
        help="A/B: compare with our own stack without the edge (what the edge costs)",
    )
    parser.add_argument(
        "--ours-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment for our stack (turn one change off to measure it)",
    )
    parser.add_argument(
        "--scratch",
        type=Path,
        default=Path(tempfile.gettempdir()) / "bench",
        help="where every run but a full one writes its JSON and chart",
    )
    args = parser.parse_args()
    profile = replace(SMOKE if args.smoke else FULL, only=args.only)
    environment = dict(item.split("=", 1) for item in args.ours_env)
    against = dict(item.split("=", 1) for item in args.against_ours)
    results = Results(
        profile="smoke"
        if args.smoke
        else "partial"
        if args.only or environment or against or args.against_direct
        else "full",
        started=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        machine={"cpus": os.cpu_count(), "python": platform.python_version()},
        ours_environment=environment,
        against_ours=against,
        against_direct=args.against_direct,
        only=args.only,
    )
    load_before = os.getloadavg()
    redis_url = local_redis_url()
    started = time.monotonic()
    # In an A/B the "baseline" column is our stack run with the --against-ours environment
    # (or without the edge).
    second = (
        our_stack(
            redis_url,
            profile.cold_ids,
            name="baseline",
            through_edge=not args.against_direct,
            **against,
        )
        if results.ab
        else baseline_stack(redis_url, profile.cold_ids)
    )
    with second as baseline, our_stack(redis_url, profile.cold_ids, **environment) as ours:
        results.ready_s = {"ours": ours.ready_s, "baseline": baseline.ready_s}
        time.sleep(profile.settle_s)
        results.rss_mb = {
            stack.name: {"idle after start": rss_by_process(stack)} for stack in (ours, baseline)
        }
        results.routes = {stack.name: stack.route for stack in (ours, baseline)}
        measure_listing(ours, profile, results)
        measure_rounds(ours, baseline, profile, results)
        time.sleep(profile.settle_s * 3)
        for stack in (ours, baseline):
            results.rss_mb[stack.name]["idle after load"] = rss_by_process(stack)
        # Last: the RSS above is after the ordinary load only.
        if profile.selected(HOSTILE_CASE):
            results.hostile = measure_hostile_bodies(
                ours.url, ours.cpu_groups(), profile.hostile_s, results.problems.append
            )
    results.machine["load"] = {
        "loadavg before": [round(x, 2) for x in load_before],
        "loadavg after": [round(x, 2) for x in os.getloadavg()],
        "bench seconds": round(time.monotonic() - started),
    }
    evaluate(results)
    print_report(results)
    write_results(results, RESULTS if results.profile == "full" else args.scratch)
    if args.smoke and results.problems:
        sys.exit(f"bench-smoke failed: see the {len(results.problems)} PROBLEM lines above")


def write_results(results: Results, directory: Path) -> None:
    """The run as JSON and its targets as a chart, replacing the last ones in ``directory``
    (a full run's in benchmarks/results/: their history is git's)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = asdict(results, dict_factory=without_latencies)
    data = directory / f"latest-{results.profile}.json"
    data.write_text(json.dumps(written, indent=2) + "\n")
    print(f"\nwritten: {data}")
    if any("ratio" in target for target in results.targets):
        chart = data.with_suffix(".png")
        title = (
            f"{results.profile} run {results.started}: ours (through the edge) /"
            " the tutorial's design (direct)"
        )
        write_chart(results.targets, title, chart)
        print(f"written: {chart}")


if __name__ == "__main__":
    main()
