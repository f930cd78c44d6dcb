"""The versions service_runtime's deviations from the public APIs were measured on.

Each module that deviates (a subclass overriding more than a documented seam, a copy
of a framework function, a reach into a private name) lists its deviations in a
table in its docstring: what it replaces, why, what it bought. Those only hold for
the versions they were written and measured against: on any other version of
nameko, kombu, py-amqp or eventlet, this test fails and names every one to recheck
(and to measure again, or to drop), before ``MEASURED_ON`` is moved.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from importlib.metadata import version

import service_runtime

# Each distribution an override reaches into -> the version it was measured on.
MEASURED_ON = {"nameko": "2.14.1", "kombu": "5.7.0", "amqp": "5.4.2", "eventlet": "0.41.3"}
# A deviation table's row: | `what` | what it replaces | why | bought |
ROW = re.compile(r"^\| `(?P<override>[^`]+)` \| (?P<replaces>[^|]+) \|", re.MULTILINE)


def deviations() -> dict[str, list[str]]:
    """Module -> the rows of its deviation table (``override: what it replaces``)."""
    found = {}
    for module_info in pkgutil.walk_packages(service_runtime.__path__, "service_runtime."):
        module = importlib.import_module(module_info.name)
        rows = [
            f"{row['override']}: {row['replaces'].strip()}"
            for row in ROW.finditer(module.__doc__ or "")
        ]
        if rows:
            found[module_info.name] = rows
    return found


def test_the_versions_are_those_the_deviations_were_measured_on():
    installed = {name: version(name) for name in MEASURED_ON}
    bumped = {
        name: f"{MEASURED_ON[name]} -> {now}"
        for name, now in installed.items()
        if now != MEASURED_ON[name]
    }

    assert not bumped, (
        f"measured on {MEASURED_ON}, installed {bumped}: recheck (measure again, or drop) "
        + "".join(f"\n  {module}: {row}" for module, rows in deviations().items() for row in rows)
    )


def test_every_listed_deviation_exists():
    for module_name, rows in deviations().items():
        module = importlib.import_module(module_name)
        for row in rows:
            target = module
            for part in row.split(":", 1)[0].split("."):
                target = getattr(target, part)  # AttributeError: the table names a removed one
