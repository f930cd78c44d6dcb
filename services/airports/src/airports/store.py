"""AirportStore: the only code that knows how airports sit in Redis.

Key layout (under ``REDIS_KEY_PREFIX``): ``airport:<id>`` is a hash ``{name}``.
"""

from __future__ import annotations

import uuid

from contracts.airports.v1 import Airport
from service_runtime.store import RedisStore


class AirportStore(RedisStore):
    def create(self, name: str) -> Airport:
        """A new airport with a fresh id, stored."""
        airport = Airport(id=uuid.uuid4().hex, name=name)
        self.save(airport)
        return airport

    def save(self, airport: Airport) -> None:
        """Store ``airport`` under its own id (provider-state set-up uses fixed ids)."""
        self.client.hset(self.key("airport", airport.id), mapping={"name": airport.name})

    def get(self, airport_id: str) -> Airport | None:
        name = self.client.hget(self.key("airport", airport_id), "name")
        return None if name is None else Airport(id=airport_id, name=name)
