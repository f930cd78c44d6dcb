"""What operators ask: ``/health``, ``/ready`` and ``/metrics``. ``/ready`` pings every
``TimedRpcProxy`` the service class declares: no second list of services to keep.
"""

from __future__ import annotations

from functools import partial

import eventlet
from nameko.dependency_providers import Config
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from typing_extensions import TypedDict
from werkzeug.wrappers import Request, Response

from contracts.errors import ServiceUnavailable
from gateway.errors import ErrorBody, error_body, json_response
from gateway.http import Route, http
from gateway.idempotency import IdempotentCreates
from gateway.live_feed import MessageHub
from gateway.metrics import LIVE_FEED_SUBSCRIBERS, REDIS_UP
from service_runtime.rpc import TimedRpcProxy
from service_runtime.settings import Setting
from service_runtime.store import STORAGE_OUTAGES, RedisStore

READINESS_TIMEOUT = Setting(
    "READINESS_TIMEOUT_SECONDS",
    float,
    1.0,
    "/ready waits at most this long for each service's ping",
    minimum=0.001,
)


class Health(TypedDict):
    status: str


class Ready(TypedDict):
    status: str
    services: list[str]


class NotReady(ErrorBody):
    """``/ready``'s 503: the error body plus the services that did not answer."""

    missing: list[str]


def rpc_dependencies(service_class: type) -> tuple[str, ...]:
    """Attribute names of the ``TimedRpcProxy`` dependencies of ``service_class``, in order."""
    names = {
        name: None
        for cls in reversed(service_class.__mro__)
        for name, value in vars(cls).items()
        if isinstance(value, TimedRpcProxy)
    }
    return tuple(names)


def redis_answers(store: RedisStore) -> bool:
    try:
        return store.ping()
    except (*STORAGE_OUTAGES, ServiceUnavailable):
        return False


# How /ready names the gateway's own Redis (idempotency answers, rate limits) when it fails.
OWN_REDIS = "gateway-redis"


class OpsRoutes:
    config = Config()
    live_feed: MessageHub
    idempotency: IdempotentCreates

    @http(Route("GET", "/health", result=Health))
    def health(self, request: Request) -> Response:
        """The gateway process serves."""
        return json_response(200, {"status": "ok"})

    @http(Route("GET", "/ready", result=Ready, responses={503: ("not ready", NotReady)}))
    def ready(self, request: Request) -> Response:
        """Readiness: every service and the gateway's own Redis answer.

        A 503 names what does not."""
        timeout = READINESS_TIMEOUT.read(self.config)
        services = rpc_dependencies(type(self))
        checks = {name: partial(self._answers_ping, name, timeout) for name in services}
        checks[OWN_REDIS] = partial(self._own_redis_answers, timeout)
        pool = eventlet.GreenPool(len(checks))
        answers = pool.imap(lambda check: check(), checks.values())
        missing = [name for name, ok in zip(checks, answers, strict=True) if not ok]
        if missing:
            body = error_body("NOT_READY", f"not answering: {', '.join(missing)}")
            return json_response(503, {**body, "missing": missing})
        return json_response(200, {"status": "ready", "services": list(services)})

    def _answers_ping(self, attribute: str, timeout: float) -> bool:
        try:
            getattr(self, attribute).with_timeout(timeout).ping()
        except Exception:  # noqa: BLE001 - any failure means "not ready"; the body names it
            return False
        return True

    def _own_redis_answers(self, timeout: float) -> bool:
        # POST /messages and keyed creates need it; bounded like the pings.
        with eventlet.Timeout(timeout, False):  # False: past the bound, leave the block
            return redis_answers(self.idempotency.store)
        return False

    # Prometheus scrapes the gateway's own port; the edge answers it as an unknown path.
    @http(Route("GET", "/metrics", public=False))
    def prometheus_metrics(self, request: Request) -> Response:
        """Prometheus metrics."""
        LIVE_FEED_SUBSCRIBERS.set(len(self.live_feed.subscriptions))
        # At each scrape: an outage shows before a request hits it (RedisUnreachable).
        REDIS_UP.set(redis_answers(self.idempotency.store))
        return Response(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
