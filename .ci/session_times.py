"""Pass nox's output through unchanged and end with a table of each session's wall time.

nox's own summary rounds to whole minutes ("took 3 minutes"); CI's budget is 15 minutes, so
the table gives seconds. Used as ``nox 2>&1 | python3 .ci/session_times.py`` (with
``pipefail``, nox's exit code stays the pipeline's).
"""

from __future__ import annotations

import re
import sys
import time

# `nox` runs sessions side by side and prints each one's output whole when it ends: a
# session starts at its "Starting session" line (or, one at a time, "Running session").
STARTED = re.compile(r"^(?:Starting session (\S+)\.\.\.|nox > Running session (\S+))")
ENDED = re.compile(r"^nox > Session (\S+) (was successful|failed|aborted|was skipped)")


def main() -> None:
    begun = time.monotonic()
    starts: dict[str, float] = {}
    rows: list[tuple[str, str, float, float]] = []
    for line in sys.stdin:
        sys.stdout.write(line)
        sys.stdout.flush()
        now = time.monotonic()
        if started := STARTED.match(line):
            starts.setdefault(started.group(1) or started.group(2), now)
        elif ended := ENDED.match(line):
            name, outcome = ended.groups()
            started_at = starts.pop(name, now)
            rows.append((name, outcome.removeprefix("was "), started_at - begun, now - started_at))
    total = time.monotonic() - begun
    print(f"\n{'session':<20} {'result':<12} {'started at':>10} {'seconds':>8}")
    for name, outcome, started_at, seconds in rows:
        print(f"{name:<20} {outcome:<12} {started_at:10.1f} {seconds:8.1f}")
    print(f"{'nox in all':<20} {'':<12} {'':>10} {total:8.1f}")


if __name__ == "__main__":
    main()
