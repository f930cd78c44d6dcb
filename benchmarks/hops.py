"""Where a cold read's time goes, hop by hop: each process's share of one request, timed
from its packets on the loopback interface (no instrumentation in the services).

Starts our stack (behind the edge) and the baseline as bench.py does, loads each with
one connection of ``GET /airport/<id>`` cold in turn (one-second slices, as the bench
interleaves), captures loopback traffic with tcpdump meanwhile, names each port's
process (``ss -tnp``) and follows every request through its packets: client -> edge ->
gateway -> broker -> airports -> Redis -> airports -> broker -> gateway -> edge -> client.
A read the record cache answered has no RPC hops and is left out.

    .nox/bench/bin/python benchmarks/hops.py          # needs root and tcpdump (apt)

Medians are per hop (the time from the packet that woke a process to the one it sent
on): "gateway: request -> publish" is the gateway's HTTP parsing, route and publish.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from bench import FULL, Stack, baseline_stack, our_stack, paired_cases
from load import run_wrk

from service_testing.local_brokers import local_redis_url

CASE = "GET /airport/<id> cold, 1 conn"
AMQP_MESSAGE_BYTES = 100  # an RPC request or reply; confirms and acks are 21 bytes
# (sender, receiver, smallest payload) of each packet a cold read sends, in order.
PATH = [
    ("client", "edge", 1),
    ("edge", "gateway", 1),
    ("gateway", "broker", AMQP_MESSAGE_BYTES),
    ("broker", "airports", AMQP_MESSAGE_BYTES),
    ("airports", "redis", 1),
    ("redis", "airports", 1),
    ("airports", "broker", AMQP_MESSAGE_BYTES),
    ("broker", "gateway", AMQP_MESSAGE_BYTES),
    ("gateway", "edge", 1),
    ("edge", "client", 1),
]
HOPS = [
    "edge: in",
    "gateway: request -> publish",
    "broker: request",
    "airports: delivery -> Redis",
    "Redis",
    "airports: Redis -> reply",
    "broker: reply",
    "gateway: reply -> response",
    "edge: out",
]
PACKET = re.compile(r"^(\d+\.\d+) IP 127\.0\.0\.1\.(\d+) > 127\.0\.0\.1\.(\d+): .* length (\d+)")
PROGRAMS = {b"haproxy": "edge", b"beam.smp": "broker", b"redis-server": "redis"}


def process_name(pid: int) -> str:
    """What the process is in the request's path; anything else is the client (wrk)."""
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "client"
    for argument in arguments:
        if target := re.fullmatch(rb"[\w.]+:(\w+)Service", argument):
            return target.group(1).decode().lower()
    # Redis rewrites its command line to "redis-server host:port".
    program = Path(arguments[0].split(b" ")[0].decode()).name.encode()
    return PROGRAMS.get(program, "client")


def port_owners() -> dict[str, str]:
    """Each local TCP port -> the name of the process holding it, now."""
    owners = {}
    for line in subprocess.run(["ss", "-tnpH"], capture_output=True, text=True).stdout.splitlines():
        fields, pid = line.split(), re.search(r"pid=(\d+)", line)
        if len(fields) >= 5 and pid:
            owners[fields[3].rsplit(":", 1)[1]] = process_name(int(pid.group(1)))
    return owners


def captured(stack: Stack, seconds: int, pcap: Path) -> list[tuple[float, str, str, int]]:
    """(time, sender, receiver, bytes) of each packet with a payload while ``stack`` is loaded."""
    case = next(c for c in paired_cases(stack) if c.name == CASE)
    load = threading.Thread(target=run_wrk, args=(stack.url, case, seconds + 2), daemon=True)
    load.start()
    tcpdump = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-nn", "-w", str(pcap), "tcp"], stderr=subprocess.DEVNULL
    )
    time.sleep(1.0)  # every connection of the path is open once the load runs
    owners = port_owners()
    load.join(timeout=seconds + 60)
    tcpdump.terminate()
    tcpdump.wait(timeout=30)
    read = subprocess.run(
        ["tcpdump", "-r", str(pcap), "-nn", "-tt"], capture_output=True, text=True
    )
    packets = []
    for line in read.stdout.splitlines():
        if (found := PACKET.match(line)) and int(found.group(4)) > 0:
            when, source, target, size = found.groups()
            sender, receiver = owners.get(source, "client"), owners.get(target, "client")
            packets.append((float(when), sender, receiver, int(size)))
    return packets


def hop_times(packets: list, has_edge: bool) -> list[list[float]]:
    """Per request that crossed the whole path: the microseconds of each hop, then the total."""
    path = PATH if has_edge else [(s, r, n) for s, r, n in PATH if "edge" not in (s, r)]
    if not has_edge:  # the client talks to the gateway itself
        path = [("client", "gateway", 1), *path, ("gateway", "client", 1)]
    requests, index = [], 0
    while index < len(packets):
        if packets[index][1:3] != path[0][:2]:
            index += 1
            continue
        times, step, index = [packets[index][0]], 1, index + 1
        while index < len(packets) and step < len(path):
            when, sender, receiver, size = packets[index]
            if (sender, receiver) == path[0][:2]:
                break  # the next request: this one never reached the services (a cache hit)
            if (sender, receiver) == path[step][:2] and size >= path[step][2]:
                times.append(when)
                step += 1
            index += 1
        if step == len(path):
            gaps = [(later - earlier) * 1e6 for earlier, later in itertools.pairwise(times)]
            if not has_edge:  # no edge: its hops are zero
                gaps = [0.0, *gaps, 0.0]
            requests.append([*gaps, (times[-1] - times[0]) * 1e6])
    return requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=2, help="per stack and round")
    args = parser.parse_args()
    if shutil.which("tcpdump") is None or os.geteuid() != 0:
        sys.exit("hops.py captures packets: run it as root, with tcpdump (apt-get install tcpdump)")
    redis_url = local_redis_url()
    with ExitStack() as stacks, tempfile.TemporaryDirectory() as scratch:
        ours = stacks.enter_context(our_stack(redis_url, FULL.cold_ids))
        baseline = stacks.enter_context(baseline_stack(redis_url, FULL.cold_ids))
        timed: dict[str, list[list[float]]] = {"ours": [], "baseline": []}
        for _ in range(args.rounds):
            for stack, has_edge in ((ours, True), (baseline, False)):
                packets = captured(stack, args.seconds, Path(scratch) / "lo.pcap")
                timed[stack.name].extend(hop_times(packets, has_edge))
    if not all(timed.values()):
        followed = {name: len(requests) for name, requests in timed.items()}
        sys.exit(f"no request was followed through every hop: {followed}")
    print(f"\n{CASE}: median microseconds per hop ({args.rounds} rounds of {args.seconds} s)")
    print(f"{'hop':30} {'ours':>8} {'baseline':>9}")
    columns = {name: list(zip(*requests, strict=True)) for name, requests in timed.items()}
    for number, hop in enumerate([*HOPS, "total"]):
        row = [statistics.median(columns[name][number]) for name in ("ours", "baseline")]
        print(f"{hop:30} {row[0]:8.0f} {row[1]:9.0f}")
    print(f"requests followed: ours {len(timed['ours'])}, baseline {len(timed['baseline'])}")


if __name__ == "__main__":
    main()
