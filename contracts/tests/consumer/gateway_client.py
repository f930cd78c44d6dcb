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
from service_testing.records import records_uncached

RPC_TIMEOUT_SECONDS = 5


def gateway(**stubs: Any) -> GatewayService:
    """A gateway worker whose named proxies (``airports=...``) are the given stubs,
    wrapped in the same ``TimedServiceProxy`` the service injects in production."""
    proxies = {name: TimedServiceProxy(stub, RPC_TIMEOUT_SECONDS) for name, stub in stubs.items()}
    # Caching off, no Idempotency-Key (the store is never reached), no rate limit: every
    # route call reaches the pact stub it is verified against, as without those layers.
    return worker_factory(
        GatewayService,
        idempotency=IdempotentCreates(store=None, context_data={}),
        rate_limit=lambda request: None,
        **proxies,
        **records_uncached(GatewayService),
    )


def request(method: str, path: str, json: Any = None) -> Request:
    return Request(EnvironBuilder(method=method, path=path, json=json).get_environ())


def respond(route: Any, *args: Any) -> Response:
    """Call a route the way the gateway's ``@http`` entrypoint does: an exception
    becomes the response from the gateway's one error table."""
    try:
        return route(*args)
    except AssertionError:
        # The pact stub's verdict (a call the pact does not describe, a schema
        # mismatch): the test must fail with its message, not see a 500.
        raise
    except Exception as exc:  # noqa: BLE001 - exactly what the entrypoint catches
        return response_from_exception(exc)
