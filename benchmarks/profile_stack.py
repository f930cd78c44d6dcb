"""Where our stack spends its CPU under one bench case: py-spy on every service process.

Starts our stack isolated (as bench.py does), puts one case's wrk load on it and,
meanwhile, samples every service process with ``py-spy record --format raw``;
then prints per process its CPU share (from /proc) and the frames that hold the
most samples, inclusive (a frame and everything it calls) and by leaf.

    .nox/bench/bin/python benchmarks/profile_stack.py --case "GET /airport/<id> cold, 50 conns"

Our stack is the bench's, behind the real edge: the edge (HAProxy, no Python for
py-spy to sample) gets its CPU share only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from bench import FULL, our_cases, our_stack, paired_cases, rss_by_process
from load import Case, cpu_seconds, run_wrk

from service_testing.local_brokers import local_redis_url

TOP = 25
PY_SPY = str(Path(sys.executable).parent / "py-spy")  # installed beside this Python


def summarise(raw: Path) -> tuple[int, Counter[str], Counter[str]]:
    """(samples, inclusive counts per frame, leaf counts per frame) of a raw py-spy file."""
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")
        total += int(count)
        leaf[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    return total, inclusive, leaf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="GET /airport/<id> cold, 50 conns")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--out", default="/tmp/profile")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    with our_stack(local_redis_url(), FULL.cold_ids) as stack:
        cases: dict[str, Case] = {c.name: c for c in paired_cases(stack) + our_cases(stack)}
        case = cases[args.case]
        names = rss_by_process(stack)
        load = threading.Thread(
            target=run_wrk, args=(stack.url, case, args.seconds + 6), daemon=True
        )
        load.start()
        time.sleep(3)
        watched = [*stack.pids, stack.edge_pid] if stack.edge_pid else stack.pids
        before = cpu_seconds(watched)
        spies = {
            pid: subprocess.Popen(
                [
                    PY_SPY,
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(args.seconds),
                    "--rate",
                    "100",
                    "--format",
                    "raw",
                    "--nonblocking",
                    # Only samples holding the GIL: Python on a CPU. Without it a green
                    # thread preempted inside send() (runnable, on a busy machine) counts
                    # too: 82 % of the gateway's samples showed GreenSocket._send_loop
                    # while 88 % of its CPU time was user time. (System time, ~13 % of
                    # the services' CPU per cold read, is left out.)
                    "--gil",
                    "--output",
                    str(out / f"{pid}.raw"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid in stack.pids
        }
        for spy in spies.values():
            spy.wait(timeout=args.seconds + 60)
        after = cpu_seconds(watched)
        load.join(timeout=60)

    print(f"\n== {args.case}, {args.seconds} s, load {os.getloadavg()}")
    if stack.edge_pid in after:
        share = (after[stack.edge_pid] - before[stack.edge_pid]) / args.seconds
        print(f"\n## edge (HAProxy, {stack.edge_pid}): {share:.0%} of a core")
    for pid in spies:
        name = next(n for n in names if n.endswith(f"({pid})"))
        if pid not in after:
            print(f"\n## {name}: exited during the profile")
            continue
        share = (after[pid] - before[pid]) / args.seconds
        total, inclusive, leaf = summarise(out / f"{pid}.raw")
        print(f"\n## {name}: {share:.0%} of a core, {total} samples")
        print("inclusive:")
        for frame, count in inclusive.most_common(TOP):
            print(f"  {count / total:6.1%}  {frame}")
        print("leaf:")
        for frame, count in leaf.most_common(TOP // 2):
            print(f"  {count / total:6.1%}  {frame}")


if __name__ == "__main__":
    sys.exit(main())
