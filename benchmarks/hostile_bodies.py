"""The worst request bodies each of the gateway's body checks can be sent, at the body limit.

A probe once found the JSON depth check quadratic: four clients sending 16 KB bodies
(``"`` + ``\\"`` x 8170 + ``[`` x 33) cost the gateway seconds each and pushed
``/health`` to 8-16 s. Here every check gets the bodies that make it work hardest,
each exactly as long as the edge lets through (``EDGE_MAX_BODY_BYTES``' default in
deploy/edge/haproxy.cfg; one byte more is refused by the edge, shown first): each body
is sent once to see its refusal, then by ``CLIENTS`` connections at once for a while,
with ``GET /health`` probed alongside as a health check would (one connection, a
request every ``HEALTH.delay_ms``) and the stack's CPU time per refusal read around it
(the probes' few included): linear checks keep it near an ordinary request's. The bench
prints medians; it asserts nothing on time (a smoke run fails only on a wrong answer
or a lost request).
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import requests
from load import Case, Sample, format_sample, problems, run_wrk, with_cpu

from gateway.strict_json import MAX_JSON_DEPTH
from service_testing.edge import EDGE_CONFIG

HOSTILE_CASE = "worst bodies at the body limit"
CLIENTS = 4  # the probe's four clients
PATH = "/airport"
JSON = {"Content-Type": "application/json"}
HEALTH = Case("GET /health, 1 conn, every 20 ms", 1, "/health", delay_ms=20)


def body_limit() -> int:
    """The edge's default body limit, read from its configuration (written there once)."""
    found = re.search(r"EDGE_MAX_BODY_BYTES-(\d+)", EDGE_CONFIG.read_text())
    assert found is not None, f"no EDGE_MAX_BODY_BYTES default in {EDGE_CONFIG}"
    return int(found.group(1))


@dataclass(frozen=True)
class HostileBody:
    name: str
    check: str  # the check that has to look at every byte of it
    error: str  # the error code that refuses it
    body: bytes


def filled(head: bytes, unit: bytes, tail: bytes, limit: int) -> bytes:
    """``head`` + as many ``unit`` as fit + ``tail``, padded with JSON white space at the
    front to exactly ``limit`` bytes."""
    count = (limit - len(head) - len(tail)) // len(unit)
    body = head + unit * count + tail
    return b" " * (limit - len(body)) + body


def one_object_of_keys(limit: int) -> bytes:
    """``{"k0":0,"k1":0,...,"k0":0}``: as many keys as fit, the first one again last."""
    tail = b'"k0":0}'
    keys, size, number = [], 1 + len(tail), 0
    while size + len(key := b'"k%d":0,' % number) <= limit:
        keys.append(key)
        size += len(key)
        number += 1
    body = b"{" + b"".join(keys) + tail
    return b" " * (limit - len(body)) + body


def worst_bodies(limit: int) -> list[HostileBody]:
    too_deep = b"[" * (MAX_JSON_DEPTH + 1)
    bodies = [
        HostileBody(
            'unclosed string of \\" + 33 [ (the probe)',
            "depth, inside a string",
            "MALFORMED_JSON",
            filled(b'"', b'\\"', too_deep, limit),
        ),
        HostileBody(
            "[] to the end, 33 [ last",
            "depth",
            "MALFORMED_JSON",
            filled(b"", b"[]", too_deep, limit),
        ),
        HostileBody(
            "one object, its first key again last",
            "duplicate keys",
            "MALFORMED_JSON",
            one_object_of_keys(limit),
        ),
        HostileBody(
            "objects, a key twice in the last",
            "duplicate keys",
            "MALFORMED_JSON",
            filled(b"[", b'{"a":0},', b'{"a":0,"a":0}]', limit),
        ),
        HostileBody(
            "4-byte characters, an invalid byte last",
            "UTF-8",
            "MALFORMED_JSON",
            filled(b'{"airport":"', "\U0001d11e".encode(), b'\xff"}', limit),
        ),
        HostileBody(
            "a name of \\u escapes, too long",
            "escapes, name length",
            "INVALID_ARGUMENT",
            filled(b'{"airport":"', b"\\u00e9", b'"}', limit),
        ),
    ]
    for hostile in bodies:
        assert len(hostile.body) == limit, (hostile.name, len(hostile.body))
    return bodies


@dataclass
class HostileRun:
    check: str
    expected: str  # the error code it should get
    answer: str  # the status and error code it got, sent alone
    alone_ms: float  # how long that one refusal took
    refused: Sample  # CLIENTS connections sending it at once; CPU per refusal
    health: Sample  # GET /health meanwhile


@dataclass
class HostileResults:
    limit: int
    over_limit: str  # the answer to a body one byte over the limit
    health_alone: Sample | None = None
    runs: dict[str, HostileRun] = field(default_factory=dict)


def answer_to(url: str, body: bytes) -> tuple[int, str, float]:
    """The status and error code ``body`` gets, and how many ms that took."""
    started = time.perf_counter()
    response = requests.post(f"{url}{PATH}", data=body, headers=JSON, timeout=30)
    elapsed_ms = (time.perf_counter() - started) * 1000
    try:
        code = response.json().get("error", "")
    except ValueError:
        code = "(no JSON)"
    return response.status_code, code, elapsed_ms


def measure_hostile_bodies(
    url: str, cpu_groups: dict[str, list[int]], seconds: int, problem: Callable[[str], None]
) -> HostileResults:
    """Every worst body against the stack at ``url`` (whose processes are ``cpu_groups``);
    what no smoke run may see goes to ``problem``."""
    limit = body_limit()
    bodies = worst_bodies(limit)
    status, code, _ = answer_to(url, bodies[0].body + b" ")
    results = HostileResults(limit, f"{status} {code}")
    if (status, code) != (413, "BODY_TOO_LARGE"):
        problem(f"a body of {limit + 1} bytes: {status} {code}, not 413 BODY_TOO_LARGE")
    print(f"\n--- {HOSTILE_CASE} ({limit} bytes; {limit + 1}: {status} {code})", flush=True)
    results.health_alone = run_wrk(url, HEALTH, seconds)
    print(f"{'GET /health alone':40} {format_sample(results.health_alone)}", flush=True)
    for found in problems("GET /health alone", results.health_alone):
        problem(found)
    with tempfile.TemporaryDirectory(prefix="bench-bodies-") as scratch:
        for number, hostile in enumerate(bodies):
            status, code, alone_ms = answer_to(url, hostile.body)
            if (status, code) != (400, hostile.error):
                problem(f"{hostile.name}: {status} {code}, not 400 {hostile.error}")
            path = Path(scratch) / f"{number}.body"
            path.write_bytes(hostile.body)
            case = Case(hostile.name, CLIENTS, PATH, "POST", body_file=str(path))
            with ThreadPoolExecutor(1) as alongside:
                health = alongside.submit(run_wrk, url, HEALTH, seconds)
                refused = with_cpu(cpu_groups, partial(run_wrk, url, case, seconds))
                answer = f"{status} {code}"
                run = HostileRun(
                    hostile.check, hostile.error, answer, alone_ms, refused, health.result()
                )
            results.runs[hostile.name] = run
            print(f"{hostile.name:40} {format_sample(run.refused)}", flush=True)
            print(f"{'  /health meanwhile':40} {format_sample(run.health)}", flush=True)
            for found in problems(hostile.name, run.refused, refused=True) + problems(
                f"GET /health beside {hostile.name}", run.health
            ):
                problem(found)
    return results


def latencies(sample: Sample) -> str:
    """p50 and p99 (ms), or how long not one request finished (the quadratic check's mark)."""
    if not sample.requests:
        return f"{f'none in {sample.seconds:.0f} s':>15}"
    return f"{sample.p50_ms:7.2f} {sample.p99_ms:7.2f}"


def print_hostile(results: HostileResults) -> None:
    """Medians of each body's refusals and of /health meanwhile (no bound asserted)."""
    print(
        f"\n{HOSTILE_CASE} ({results.limit} bytes; {results.limit + 1}: {results.over_limit}),"
        f" POST {PATH} from {CLIENTS} connections, {HEALTH.name} alongside"
    )
    print(
        f"{'body':40} {'check':22} {'answer':20} {'alone':>6} {'refused/s':>9} {'p50 ms':>7}"
        f" {'p99 ms':>7} {'CPU ms':>6} {'edge':>5} {'health p50':>10} {'p99':>7}"
    )
    if results.health_alone is not None:
        print(f"{'(none: /health alone)':129} {latencies(results.health_alone):>18}")
    for name, run in results.runs.items():
        refused = run.refused
        cpu = {group: f"{us / 1000:.2f}" for group, us in refused.cpu_us.items()}
        print(
            f"{name:40} {run.check:22} {run.answer:20} {run.alone_ms:6.1f} {refused.rps:9.0f}"
            f" {latencies(refused)} {cpu.get('services', '-'):>6} {cpu.get('edge', '-'):>5}"
            f" {latencies(run.health):>18}"
        )
    print(
        "alone: ms for one refusal, sent alone; CPU ms: the services' CPU per refusal"
        " (the /health probes' in it); edge: HAProxy's"
    )
