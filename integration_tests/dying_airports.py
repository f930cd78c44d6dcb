"""airports that dies right after storing what it was asked to create: the process
SIGKILLs itself between the store write and the reply (and so the acknowledgement).

RabbitMQ then redelivers the call to another instance, which runs the create again:
the failover test's way to make a real redelivery of a call whose work was done.
Test-only; runs with airports' own config (same service name, queue and Redis).
"""

from __future__ import annotations

import os
import signal

from airports.service import AirportsService
from airports.store import AirportStore
from contracts.airports.v1 import Airport
from service_runtime.store import StoreProvider


class AirportStoreDyingAfterWrite(AirportStore):
    def create(self, name: str, idempotency_key: str | None = None) -> Airport:
        created = super().create(name, idempotency_key)
        os.kill(os.getpid(), signal.SIGKILL)  # the write is done; the reply never leaves
        return created


class AirportsDyingAfterWrite(AirportsService):
    store: AirportStore = StoreProvider(AirportStoreDyingAfterWrite)
