"""TripStore: the only code that knows how trips sit in Redis.

Key layout (under ``REDIS_KEY_PREFIX``): ``trip:<id>`` is a hash
``{airport_from, airport_to}``: one ``HSET`` per create (a Lua script when an
idempotency key makes it write-once), one ``HGETALL`` per read
(``service_runtime.store.RecordStore``).
"""

from __future__ import annotations

from contracts.trips import SERVICE_NAME
from contracts.trips.v1 import Trip
from service_runtime.store import RecordStore


class TripStore(RecordStore[Trip]):
    service, kind, model = SERVICE_NAME, "trip", Trip
