"""A worker's memory is freed when the worker ends, and freed memory goes back to the OS
once the service falls quiet.

* **Each worker is a reference cycle.** The worker context holds the service instance,
  whose injected dependencies (the RPC proxies) hold the worker context. So nothing a
  worker used (its request, body, proxies) is freed when it ends: it waits for the
  cyclic garbage collector. Under load thousands of workers' objects wait at once,
  Python's allocator takes more 1 MiB arenas for them, and the few long-lived objects
  made meanwhile (cache entries, pooled connections) keep those arenas resident.
  ``worker_teardown`` clears the instance's attributes, which breaks the cycle:
  reference counting frees the worker at once. Nothing reads the instance after its
  worker has ended.
* **glibc keeps freed heap memory.** About 5 MB of a service's heap is free right after
  start-up (what the imports allocated and let go), more after load. ``malloc_trim(0)``
  hands every wholly free page back. It runs when no worker has begun for a whole
  ``QUIET_SECONDS`` after some have (start-up's ``/ready`` checks included), never
  under load, where the pages would only be taken again. Only the young generations
  are collected first (the burst's own garbage, well under a millisecond): a full
  collection of a service's ~56 000 objects costs ~20 ms, too much to pay after every
  request of sparse traffic.

Both hold the bench's idle-RSS target (every process at most 60 MB). A/B (2 runs of
``--only POST --against-ours``: ``POST /airport``, ``/trip``, ``/messages`` at 50
connections), idle RSS in MB with and without each:

| override | deviation | without it |
|---|---|---|
| `ReleasedMemory.worker_teardown` | clears nameko's service instance | gateway after load +2.1 |
| `ReleasedMemory.start` | ctypes `malloc_trim` when quiet | +5.7 RPC, +4.9 gateway at start |
"""

from __future__ import annotations

import ctypes
import gc
from typing import Any

import eventlet
from nameko.extensions import DependencyProvider

# Short enough that a service is back to its idle size within a second of its last
# request; a check costs a wake-up, a release (young collection + trim) about 1 ms.
QUIET_SECONDS = 0.25
YOUNG_GENERATIONS = 1  # gc.collect(1): generations 0 and 1

# glibc's; other C libraries (musl, macOS) have none, and nothing is trimmed there.
_MALLOC_TRIM = getattr(ctypes.CDLL(None), "malloc_trim", None)


def release_free_memory() -> None:
    """Free the young garbage cycles, then return wholly free heap pages to the OS."""
    gc.collect(YOUNG_GENERATIONS)
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


class QuietPeriods:
    """Says, once per period, whether work was followed by a whole quiet period."""

    def __init__(self) -> None:
        # Start-up counts as work: its garbage is released after the first quiet period.
        self.started = 0
        self._seen = -1
        self._released = -1

    def worker_started(self) -> None:
        self.started += 1

    def quiet_after_work(self) -> bool:
        """Called at the end of each period: no worker began in it, and some had since
        the last release."""
        quiet = self.started == self._seen and self.started != self._released
        if quiet:
            self._released = self.started
        self._seen = self.started
        return quiet


class ReleasedMemory(DependencyProvider):
    """Breaks each worker's reference cycle at its end; releases memory when quiet."""

    def setup(self) -> None:
        self.periods = QuietPeriods()

    def start(self) -> None:
        self.container.spawn_managed_thread(self._release_when_quiet, identifier="memory")

    def _release_when_quiet(self) -> None:
        while True:
            eventlet.sleep(QUIET_SECONDS)
            if self.periods.quiet_after_work():
                release_free_memory()

    def worker_setup(self, worker_ctx: Any) -> None:
        self.periods.worker_started()

    def worker_teardown(self, worker_ctx: Any) -> None:
        vars(worker_ctx.service).clear()
