"""The ``ping`` RPC every service serves; the gateway's readiness probe calls it."""

from __future__ import annotations

from service_runtime.entrypoints import rpc
from service_runtime.store import RedisStore


class Pingable:
    """Mixin for a service class with a ``store``: ``ping`` answers once Redis does.

    Nameko collects entrypoints from base classes too, so mixing this in is all a
    service needs to do.
    """

    name: str
    store: RedisStore

    @rpc
    def ping(self) -> dict[str, str]:
        self.store.ping()
        return {"service": self.name, "status": "ok"}
