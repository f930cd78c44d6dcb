"""``/health`` (the process serves) and ``/ready`` (every service answers a ping, and the
gateway's own Redis answers).

The services ``/ready`` pings are the ``TimedRpcProxy`` dependencies the service
class declares: a route that starts calling a new service makes readiness wait
for it without a second list to keep.
"""

from __future__ import annotations

from functools import partial

import eventlet
from nameko.dependency_providers import Config
from werkzeug.wrappers import Request, Response

from gateway.errors import error_body, json_response
from gateway.http import http
from gateway.idempotency import IdempotentCreates
from service_runtime.rpc import TimedRpcProxy
from service_runtime.settings import Setting

READINESS_TIMEOUT = Setting(
    "READINESS_TIMEOUT_SECONDS",
    float,
    1.0,
    "/ready waits at most this long for each service's ping",
    minimum=0.001,
)


def rpc_dependencies(service_class: type) -> tuple[str, ...]:
    """Attribute names of the ``TimedRpcProxy`` dependencies of ``service_class``, in order."""
    names = {
        name: None
        for cls in reversed(service_class.__mro__)
        for name, value in vars(cls).items()
        if isinstance(value, TimedRpcProxy)
    }
    return tuple(names)


# How /ready names the gateway's own Redis (idempotency answers, rate limits) when it fails.
OWN_REDIS = "gateway-redis"


class HealthRoutes:
    config = Config()
    idempotency: IdempotentCreates  # the gateway's own Redis is its store's

    @http("GET", "/health")
    def health(self, request: Request) -> Response:
        return json_response(200, {"status": "ok"})

    @http("GET", "/ready")
    def ready(self, request: Request) -> Response:
        timeout = READINESS_TIMEOUT.read(self.config)
        services = rpc_dependencies(type(self))
        checks = {name: partial(self._answers_ping, name, timeout) for name in services}
        checks[OWN_REDIS] = partial(self._own_redis_answers, timeout)
        pool = eventlet.GreenPool(len(checks))
        answers = pool.imap(lambda check: check(), checks.values())
        missing = [name for name, ok in zip(checks, answers, strict=True) if not ok]
        if missing:
            return json_response(
                503,
                {
                    **error_body("NOT_READY", f"not answering: {', '.join(missing)}"),
                    "missing": missing,
                },
            )
        return json_response(200, {"status": "ready", "services": list(services)})

    def _own_redis_answers(self, timeout: float) -> bool:
        # Without it POST /messages (rate limit) and keyed creates answer 503 while
        # /ready says 200; bounded like the pings (the client's own timeouts are longer).
        try:
            with eventlet.Timeout(timeout):
                self.idempotency.store.ping()
        except BaseException:  # noqa: BLE001 - eventlet.Timeout is a BaseException
            return False
        return True

    def _answers_ping(self, attribute: str, timeout: float) -> bool:
        try:
            getattr(self, attribute).with_timeout(timeout).ping()
        except Exception:  # noqa: BLE001 - any failure means "not ready"; the body names it
            return False
        return True
