"""What every service class here is built on (README, "Nameko travel & messenger"): the
standard dependency providers, declared once; nameko collects them from base classes too.
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
        """The readiness probes' call (``RedisStore.ping``)."""
        self.store.ping()
        return {"service": self.name, "status": "ok"}
