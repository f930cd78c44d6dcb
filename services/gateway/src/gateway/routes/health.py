"""``/health`` (the process serves) and ``/ready`` (every service answers a ping).

The services ``/ready`` pings are the ``TimedRpcProxy`` dependencies the service
class declares: a route that starts calling a new service makes readiness wait
for it without a second list to keep.
"""

from __future__ import annotations

import eventlet
from nameko.dependency_providers import Config
from typing_extensions import TypedDict
from werkzeug.wrappers import Request, Response

from gateway.errors import ErrorBody, error_body, json_response
from gateway.http import Route, http
from service_runtime.rpc import TimedRpcProxy
from service_runtime.settings import Setting

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


class HealthRoutes:
    config = Config()

    @http(Route("GET", "/health", result=Health))
    def health(self, request: Request) -> Response:
        """The gateway process serves."""
        return json_response(200, {"status": "ok"})

    @http(Route("GET", "/ready", result=Ready, responses={503: ("not ready", NotReady)}))
    def ready(self, request: Request) -> Response:
        """Every service answers a ping (503 names the ones that do not)."""
        timeout = READINESS_TIMEOUT.read(self.config)
        services = rpc_dependencies(type(self))
        pool = eventlet.GreenPool(len(services))
        answers = pool.imap(lambda name: self._answers_ping(name, timeout), services)
        missing = [name for name, ok in zip(services, answers, strict=True) if not ok]
        if missing:
            return json_response(
                503,
                {
                    **error_body("NOT_READY", f"not answering: {', '.join(missing)}"),
                    "missing": missing,
                },
            )
        return json_response(200, {"status": "ready", "services": list(services)})

    def _answers_ping(self, attribute: str, timeout: float) -> bool:
        try:
            getattr(self, attribute).with_timeout(timeout).ping()
        except Exception:  # noqa: BLE001 - any failure means "not ready"; the body names it
            return False
        return True
