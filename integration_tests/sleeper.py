"""A test-only service whose one RPC takes a known time: the scaling experiment.

Run as ``nameko run --config integration_tests/sleeper.yaml
integration_tests.sleeper:SleeperService``; ``MAX_WORKERS`` bounds how many calls
one instance serves at once.
"""

from __future__ import annotations

import os

import eventlet
from nameko.rpc import rpc

SERVICE_NAME = "sleeper"


class SleeperService:
    name = SERVICE_NAME

    @rpc
    def sleep(self, seconds: float) -> int:
        """Sleep ``seconds`` (yielding to other workers), then say which process served."""
        eventlet.sleep(seconds)
        return os.getpid()
