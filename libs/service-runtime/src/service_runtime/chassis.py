"""What every service class here is built on: the standard dependency providers, declared
once.

* ``ObservedService``: each worker's call line, metrics and log context
  (``service_runtime.calls``) and its memory freed when it ends
  (``service_runtime.memory``). The gateway is one.
* ``RpcService``: an ``ObservedService`` with a Redis store, the calling client's
  idempotency key and the ``ping`` RPC (the readiness probes call it). A service names
  its store class where it names its base::

      class AirportsService(RpcService, store=AirportStore):
          name = SERVICE_NAME

Nameko collects dependency providers and entrypoints from base classes too.
"""

from __future__ import annotations

from typing import Any

from service_runtime.calls import CallObserver
from service_runtime.entrypoints import rpc
from service_runtime.memory import ReleasedMemory
from service_runtime.store import IdempotencyKey, RedisStore, StoreProvider


class ObservedService:
    name: str

    calls = CallObserver()
    memory = ReleasedMemory()


class RpcService(ObservedService):
    store: RedisStore
    idempotency_key = IdempotencyKey()

    def __init_subclass__(cls, store: type[RedisStore] | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if store is not None:
            cls.store = StoreProvider(store)  # type: ignore[assignment]

    @rpc
    def ping(self) -> dict[str, str]:
        """Answers once the service's Redis does, with its data loaded."""
        self.store.ping()
        return {"service": self.name, "status": "ok"}
