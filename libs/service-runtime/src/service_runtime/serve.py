"""``python -m service_runtime.serve run --config config.yaml module:Class``: ``nameko run``
without loading ``pkg_resources``.

nameko's CLI imports ``pkg_resources`` only to print its own version, and
importing it scans every installed distribution: about 12 MB of a service
process's ~70 MB. This entry point puts a stand-in under that name which
answers ``get_distribution(name).version`` from ``importlib.metadata`` and, on
any other use, replaces itself with the real module; then it hands the same
arguments to nameko's own ``main``. Everything else is nameko's CLI unchanged.
"""

from __future__ import annotations

import importlib
import sys
import types
from importlib.metadata import version
from typing import Any


class _Distribution(types.SimpleNamespace):
    version: str


def _stand_in() -> types.ModuleType:
    module = types.ModuleType("pkg_resources", "stand-in: see service_runtime.serve")

    def get_distribution(name: str) -> _Distribution:
        return _Distribution(version=version(name))

    def load_the_real_one(attribute: str) -> Any:
        if attribute.startswith("__"):  # module introspection (eventlet's patcher does it)
            raise AttributeError(attribute)
        del sys.modules["pkg_resources"]
        return getattr(importlib.import_module("pkg_resources"), attribute)

    module.get_distribution = get_distribution  # type: ignore[attr-defined]
    module.__getattr__ = load_the_real_one  # type: ignore[method-assign]
    return module


def main() -> None:
    sys.modules.setdefault("pkg_resources", _stand_in())
    from nameko.cli.main import main as nameko_main

    nameko_main()


if __name__ == "__main__":
    main()
