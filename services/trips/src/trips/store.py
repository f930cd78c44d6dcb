"""TripStore: the only code that knows how trips sit in Redis.

Key layout (under ``REDIS_KEY_PREFIX``): ``trip:<id>`` is a hash
``{airport_from, airport_to}``.
"""

from __future__ import annotations

import uuid

from contracts.trips.v1 import Trip
from service_runtime.store import RedisStore


class TripStore(RedisStore):
    def create(self, airport_from: str, airport_to: str) -> str:
        trip_id = uuid.uuid4().hex
        self.client.hset(
            self.key("trip", trip_id),
            mapping={"airport_from": airport_from, "airport_to": airport_to},
        )
        return trip_id

    def get(self, trip_id: str) -> Trip | None:
        fields = self.client.hgetall(self.key("trip", trip_id))
        return Trip(id=trip_id, **fields) if fields else None
