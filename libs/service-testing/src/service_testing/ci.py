"""Whether this run is CI's: there a missing prerequisite fails the run instead of
narrowing it (no browser tests skipped, no local-brokers fallback for integration)."""

from __future__ import annotations

import os

# Values of CI that mean "not CI" (anything else non-empty means CI, as CI systems
# set it to "true", "1", "yes" or their own name).
NOT_CI = ("", "false", "0")


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in NOT_CI
