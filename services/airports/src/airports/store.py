"""AirportStore: the only code that knows how airports sit in Redis.

Key layout (under ``REDIS_KEY_PREFIX``): ``airport:<id>`` is a hash ``{name}``: one
``HSET`` per create (a Lua script when an idempotency key makes it write-once), one
``HGETALL`` per read (``service_runtime.store.RecordStore``).
"""

from __future__ import annotations

from contracts.airports import SERVICE_NAME
from contracts.airports.v1 import Airport
from service_runtime.store import RecordStore


class AirportStore(RecordStore[Airport]):
    service, kind, model = SERVICE_NAME, "airport", Airport
