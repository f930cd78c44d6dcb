"""airports that dies right after storing what it was asked to create: the process
SIGKILLs itself between the store write and the reply (and so the acknowledgement).

RabbitMQ then redelivers the call to another instance, which runs the create again:
the failover test's way to make a real redelivery of a call whose work was done.
Test-only; runs with airports' own config (same service name, queue and Redis).
"""

from __future__ import annotations

import os
import signal
from typing import Any

from airports.service import AirportsService
from airports.store import AirportStore
from service_runtime.store import Created


class AirportStoreDyingAfterWrite(AirportStore):
    def create(self, idempotency_key: str | None = None, **fields: Any) -> Created:
        created = super().create(idempotency_key, **fields)
        os.kill(os.getpid(), signal.SIGKILL)  # the write is done; the reply never leaves
        return created


class AirportsDyingAfterWrite(AirportsService, store=AirportStoreDyingAfterWrite):
    pass
