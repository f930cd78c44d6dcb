"""Are the committed pact files what the consumer tests write today?

    python -m contract_testing.pact.freshness <regenerated dir> <committed dir>

Compares every ``*.json`` pact directly in both directories (released sets in
subdirectories are frozen and not compared), ignoring only metadata that changes
without any contract change (the pact library's own version). Exit 1 when a file
is missing, extra or different: the consumer tests changed and nobody
re-committed the pacts (``nox -s pacts``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

VOLATILE_METADATA = ("pactRust",)


def comparable(path: Path) -> dict[str, Any]:
    pact = json.loads(path.read_text())
    for key in VOLATILE_METADATA:
        pact.get("metadata", {}).pop(key, None)
    return pact


def stale_pacts(regenerated: Path, committed: Path) -> list[str]:
    fresh = {p.name: comparable(p) for p in regenerated.glob("*.json")}
    kept = {p.name: comparable(p) for p in committed.glob("*.json")}
    return sorted(name for name in set(fresh) | set(kept) if fresh.get(name) != kept.get(name))


def main(argv: list[str]) -> int:
    regenerated, committed = (Path(arg) for arg in argv)
    stale = stale_pacts(regenerated, committed)
    for name in stale:
        print(f"stale pact: {committed / name} differs from what the consumer tests write")
    if stale:
        print("regenerate with: nox -s pacts (then review and commit the diff)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
