"""pytest-xdist scheduling by whole modules, with named modules kept on one worker.

`--dist loadfile` splits by module; some modules must not run at the same time as each
other (they change the same machine-wide state), so they share a scope, which one
worker runs one after another. (`--dist loadgroup` would say this with marks, but
pytest-xdist 3.8 ignored xdist_group marks, static or added at collection, and split
the modules.) Use in a conftest:

    pytest_xdist_make_scheduler = modules_together({"test_a": "shared", "test_b": "shared"})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling


def modules_together(together: Mapping[str, str]) -> Callable[..., LoadScopeScheduling]:
    """The ``pytest_xdist_make_scheduler`` hook: a scope per module, but each module
    named in ``together`` (its file name without ``.py``) in the scope given there."""

    class ModulesTogether(LoadScopeScheduling):
        # The scheduler's one extension point (pytest-xdist's own loadfile and loadgroup
        # schedulers override just this).
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return together.get(Path(module).stem, module)

    # tryfirst: xdist's own implementation of this hook would answer first otherwise.
    @pytest.hookimpl(tryfirst=True, optionalhook=True)
    def make_scheduler(config: pytest.Config, log: object) -> LoadScopeScheduling:
        return ModulesTogether(config, log)

    return make_scheduler
