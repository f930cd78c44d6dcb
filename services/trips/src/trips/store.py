"""TripStore: the only code that knows how trips sit in Redis.

Key layout (under ``REDIS_KEY_PREFIX``): ``trip:<id>`` is a hash
``{airport_from, airport_to}``. A create with an idempotency key gets the id the key
gives and writes only if that id is free (one Lua script, ``service_runtime.idempotency``).
"""

from __future__ import annotations

from contracts.errors import IdempotencyKeyReused
from contracts.trips import SERVICE_NAME
from contracts.trips.v1 import Trip
from service_runtime.idempotency import create_hash_once, record_id
from service_runtime.store import RedisStore


class TripStore(RedisStore):
    def create(
        self, airport_from: str, airport_to: str, idempotency_key: str | None = None
    ) -> Trip:
        """A new trip, stored and returned as stored; with a key, the one trip that key
        created (a retry or a redelivered call finds it instead of making another)."""
        trip = Trip(
            id=record_id(SERVICE_NAME, idempotency_key),
            airport_from=airport_from,
            airport_to=airport_to,
        )
        if idempotency_key is None:
            self.save(trip)
        elif (
            not create_hash_once(
                self.client, self.key("trip", trip.id), trip.model_dump(exclude={"id"})
            )
            and self.get(trip.id) != trip
        ):
            raise IdempotencyKeyReused("the Idempotency-Key was used to create another trip")
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
