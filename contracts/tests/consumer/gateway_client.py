"""The gateway's real route code, run outside nameko with pact stubs as its proxies."""

from __future__ import annotations

from typing import Any

from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from gateway.errors import response_from_exception
from gateway.idempotency import IdempotentCreates
from gateway.service import GatewayService
from service_runtime.rpc import TimedServiceProxy

RPC_TIMEOUT_SECONDS = 5


def gateway(**stubs: Any) -> GatewayService:
    """A gateway worker whose named proxies (``airports=...``) are the given stubs,
    wrapped in the same ``TimedServiceProxy`` the service injects in production."""
    proxies = {name: TimedServiceProxy(stub, RPC_TIMEOUT_SECONDS) for name, stub in stubs.items()}
    # Requests here carry no Idempotency-Key (the store is never reached) and are
    # not rate-limited: the routes call the services exactly as without those layers.
    return worker_factory(
        GatewayService,
        idempotency=IdempotentCreates(store=None, context_data={}),
        rate_limit=lambda request: None,
        **proxies,
    )


def request(method: str, path: str, json: Any = None) -> Request:
    return Request(EnvironBuilder(method=method, path=path, json=json).get_environ())


def respond(route: Any, *args: Any) -> Response:
    """Call a route the way the gateway's ``@http`` entrypoint does: an exception
    becomes the response from the gateway's one error table."""
    try:
        return route(*args)
    except Exception as exc:  # noqa: BLE001 - exactly what the entrypoint catches
        return response_from_exception(exc)
