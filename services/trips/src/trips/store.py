"""TripStore: the only code that knows how trips sit in Redis.

Key layout (under ``REDIS_KEY_PREFIX``): ``trip:<id>`` is a hash
``{airport_from, airport_to}``.
"""

from __future__ import annotations

import uuid

from contracts.trips.v1 import Trip
from service_runtime.store import RedisStore


class TripStore(RedisStore):
    def create(self, airport_from: str, airport_to: str) -> Trip:
        """A new trip under a fresh id, stored and returned as stored."""
        trip = Trip(id=uuid.uuid4().hex, airport_from=airport_from, airport_to=airport_to)
        self.save(trip)
        return trip

    def save(self, trip: Trip) -> None:
        """Store ``trip`` under its own id (provider-state set-up uses fixed ids)."""
        self.client.hset(
            self.key("trip", trip.id),
            mapping={"airport_from": trip.airport_from, "airport_to": trip.airport_to},
        )

    def get(self, trip_id: str) -> Trip | None:
        fields = self.client.hgetall(self.key("trip", trip_id))
        return Trip(id=trip_id, **fields) if fields else None
