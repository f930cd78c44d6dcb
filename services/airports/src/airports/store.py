"""AirportStore: the only code that knows how airports sit in Redis.

Key layout (under ``REDIS_KEY_PREFIX``): ``airport:<id>`` is a hash ``{name}``.
A create with an idempotency key gets the id the key gives and writes only if that
id is free (one Lua script, ``service_runtime.idempotency``).
"""

from __future__ import annotations

from contracts.airports import SERVICE_NAME
from contracts.airports.v1 import Airport
from contracts.errors import IdempotencyKeyReused
from service_runtime.idempotency import create_hash_once, record_id
from service_runtime.store import RedisStore


class AirportStore(RedisStore):
    def create(self, name: str, idempotency_key: str | None = None) -> Airport:
        """A new airport, stored; with a key, the one that key created (at most one)."""
        airport = Airport(id=record_id(SERVICE_NAME, idempotency_key), name=name)
        if idempotency_key is None:
            self.save(airport)
            return airport
        if create_hash_once(self.client, self.key("airport", airport.id), {"name": name}):
            return airport
        existing = self.get(airport.id)
        if existing != airport:
            raise IdempotencyKeyReused("the Idempotency-Key was used to create another airport")
        return existing

    def save(self, airport: Airport) -> None:
        """Store ``airport`` under its own id (provider-state set-up uses fixed ids)."""
        self.client.hset(self.key("airport", airport.id), mapping={"name": airport.name})

    def get(self, airport_id: str) -> Airport | None:
        name = self.client.hget(self.key("airport", airport_id), "name")
        return None if name is None else Airport(id=airport_id, name=name)
