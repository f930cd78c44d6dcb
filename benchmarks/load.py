"""Load for the bench: one wrk run of a case (benchmarks/case.lua), slices pooled, CPU time.

Shared by bench.py, hostile_bodies.py and profile_stack.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
WRK_TIMEOUT = "5s"


@dataclass(frozen=True)
class Case:
    """One wrk run: ``path`` (+ a random id from ``ids`` per request) at ``connections``."""

    name: str
    connections: int
    path: str
    method: str = "GET"
    body: str | None = None
    ids: str | None = None  # "cold": the stack's file of pre-created ids
    body_file: str | None = None  # a body of any bytes (NUL, invalid UTF-8), sent as is
    delay_ms: int = 0  # each connection waits this long before each request (a probe)


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    requests: int = 0
    # CPU time per request (us) of each group of processes while the case ran: the
    # stack's services, our edge, and the local broker and Redis (shared; one stack is
    # loaded at a time). Less noisy than latency on a shared machine, and it says where time goes.
    cpu_us: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    # Every latency recorded (us -> requests), to pool slices exactly; not written out.
    latency_us: Counter[int] = field(default_factory=Counter, repr=False)


RESULT_LINE = re.compile(r"^BENCH_RESULT (\{.*\})$", re.MULTILINE)


def run_wrk(url: str, case: Case, duration_s: int) -> Sample:
    env = {**os.environ, "BENCH_METHOD": case.method, "BENCH_PATH": case.path}
    if case.body is not None:
        env["BENCH_BODY"] = case.body
    if case.ids is not None:
        env["BENCH_IDS"] = case.ids
    if case.body_file is not None:
        env["BENCH_BODY_FILE"] = case.body_file
    if case.delay_ms:
        env["BENCH_DELAY_MS"] = str(case.delay_ms)
    command = [
        "wrk",
        "-t1",
        f"-c{case.connections}",
        f"-d{duration_s}s",
        "--timeout",
        WRK_TIMEOUT,
        "-s",
        str(BENCH / "case.lua"),
        url,
    ]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=duration_s + 60, check=False
    )
    found = RESULT_LINE.search(done.stdout)
    if done.returncode != 0 or found is None:  # e.g. nothing listens: wrk says so, and stops
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    raw = json.loads(found.group(1))
    return Sample(
        rps=raw["requests"] / (raw["duration_us"] / 1e6),
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        non_2xx=raw["non_2xx"],
        socket_errors=raw["socket_errors"],
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        latency_us=Counter(dict(raw["latency_us"])),
    )


def percentile_ms(latency_us: Counter[int], fraction: float) -> float:
    """The latency below which ``fraction`` of the requests finished."""
    total, seen = latency_us.total(), 0
    for value in sorted(latency_us):
        seen += latency_us[value]
        if seen >= fraction * total:
            return value / 1000
    return float("nan")  # no request finished


def pooled(slices: list[Sample]) -> Sample:
    """One sample from several runs of a case: their requests and latencies together."""
    latency_us = sum((s.latency_us for s in slices), Counter())
    requests = sum(s.requests for s in slices)
    seconds = sum(s.seconds for s in slices)
    groups = {group for s in slices for group in s.cpu_us}
    return Sample(
        rps=requests / seconds if seconds else 0.0,
        p50_ms=percentile_ms(latency_us, 0.50),
        p99_ms=percentile_ms(latency_us, 0.99),
        non_2xx=sum(s.non_2xx for s in slices),
        socket_errors=sum(s.socket_errors for s in slices),
        requests=requests,
        cpu_us={
            group: sum(s.cpu_us.get(group, 0.0) * s.requests for s in slices) / requests
            for group in groups
        }
        if requests
        else {},
        seconds=seconds,
        latency_us=latency_us,
    )


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Iterable[int]) -> dict[int, float]:
    """The CPU time so far of each of ``pids`` still running (one that exited has none)."""
    times: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):  # exited (a broker's helper ...)
            continue
        times[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
    return times


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings by the processes running at both."""
    return sum(after[pid] - before[pid] for pid in after.keys() & before.keys())


def with_cpu(groups: dict[str, list[int]], run: Callable[[], Sample]) -> Sample:
    """``run()``'s sample, with the CPU time each group of processes spent meanwhile per
    request it served."""
    before = {group: cpu_seconds(pids) for group, pids in groups.items()}
    sample = run()
    if sample.requests:
        sample.cpu_us = {
            group: cpu_spent(before[group], cpu_seconds(pids)) / sample.requests * 1e6
            for group, pids in groups.items()
        }
    return sample


def format_sample(sample: Sample) -> str:
    errors = f"  non-2xx {sample.non_2xx}" if sample.non_2xx else ""
    errors += f"  socket errors {sample.socket_errors}" if sample.socket_errors else ""
    latency = f"p50 {sample.p50_ms:7.2f} ms  p99 {sample.p99_ms:7.2f} ms"
    return f"{sample.rps:8.0f} req/s  {latency}{errors}"


def problems(what: str, sample: Sample, refused: bool = False) -> list[str]:
    """What makes ``sample`` no measurement of its case: no request served, a socket
    error, or an answer other than the case's (2xx; every one a refusal if ``refused``)."""
    found = []
    if sample.requests == 0:
        found.append(f"{what}: served no request")
    if sample.socket_errors:
        found.append(f"{what}: {sample.socket_errors} socket errors")
    expected = sample.requests if refused else 0
    if sample.non_2xx != expected:
        answers = "refusals" if refused else "non-2xx answers"
        found.append(f"{what}: {sample.non_2xx} {answers} of {sample.requests}, not {expected}")
    return found
