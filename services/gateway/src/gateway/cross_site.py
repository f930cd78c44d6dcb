"""The ``Origin`` check (README, "The edge": Content type): a browser's request comes from
this site as the client saw it (``client_address``) or one of ``ALLOWED_ORIGINS``.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request

from gateway.errors import OriginNotAllowed
from service_runtime.settings import Setting, string_list

ALLOWED_ORIGINS = Setting(
    "ALLOWED_ORIGINS",
    string_list,
    (),
    "other sites (scheme://host[:port]) whose pages may call the API; the gateway's own "
    "origin is always allowed",
)
DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def normal_origin(origin: str) -> str:
    """``scheme://host[:port]`` lower-cased, without a trailing slash or a default port."""
    origin = origin.strip().lower().rstrip("/")
    scheme = origin.partition("://")[0]
    return origin.removesuffix(DEFAULT_PORTS.get(scheme, "\0"))


class OriginRule:
    def __init__(self, config: dict[str, Any]) -> None:
        self.allowed = frozenset(map(normal_origin, ALLOWED_ORIGINS.read(config)))

    def check(self, request: Request) -> None:
        origin = request.headers.get("Origin")
        if origin is None:
            return
        own = normal_origin(f"{request.scheme}://{request.host}")
        if normal_origin(origin) not in {own, *self.allowed}:
            raise OriginNotAllowed("requests from other sites are not allowed (ALLOWED_ORIGINS)")
