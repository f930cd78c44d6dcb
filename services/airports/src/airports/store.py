"""AirportStore: the only code that knows how airports sit in Redis.

Key layout (under ``REDIS_KEY_PREFIX``): ``airport:<id>`` is a hash ``{name}``.
"""

from __future__ import annotations

import uuid

from contracts.airports.v1 import Airport
from service_runtime.store import RedisStore


class AirportStore(RedisStore):
    def create(self, name: str) -> str:
        airport_id = uuid.uuid4().hex
        self.client.hset(self.key("airport", airport_id), mapping={"name": name})
        return airport_id

    def get(self, airport_id: str) -> Airport | None:
        name = self.client.hget(self.key("airport", airport_id), "name")
        return None if name is None else Airport(id=airport_id, name=name)
