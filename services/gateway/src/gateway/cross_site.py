"""Which sites may talk to the gateway: ``Host``, ``Origin`` and the body's media type.

* ``Host`` must be an IP address or name a host in ``ALLOWED_HOSTS`` (port ignored):
  a DNS-rebinding page reaches the gateway under the attacker's own host name, and
  gets 400. An IP address cannot be rebound (a page at ``http://10.0.0.5/`` is the
  gateway's own origin), so orchestrator probes and clients using a node's or a
  container's address are served without configuration.
* ``Origin``, when a browser sends it, must be this site (its host and port equal
  ``Host``) or one of ``ALLOWED_ORIGINS``: another site's script gets 403.
* A request body must be declared ``application/json`` (UTF-8): 415 otherwise. An
  HTML form can only send form encodings or text/plain, and a cross-site script
  cannot send JSON without the CORS preflight the gateway never grants, so this
  alone stops cross-site posts.

Behind a reverse proxy, forward the public ``Host`` (nginx: ``proxy_set_header Host
$host``) and list the public name in ``ALLOWED_HOSTS``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from werkzeug.http import parse_options_header

from gateway.errors import HostNotAllowed, OriginNotAllowed, UnsupportedMediaType
from service_runtime.settings import Setting, string_list

ALLOWED_HOSTS = Setting(
    "ALLOWED_HOSTS",
    string_list,
    ("localhost",),
    "host names the gateway answers to besides IP addresses (Host header, any port; "
    "'.example.com' also matches its subdomains, '*' any host)",
)
ALLOWED_ORIGINS = Setting(
    "ALLOWED_ORIGINS",
    string_list,
    (),
    "other sites (scheme://host[:port]) whose pages may call the API; the gateway's own "
    "origin is always allowed",
)

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
JSON_MEDIA_TYPE = "application/json"
DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def host_name(host: str) -> str:
    """``Host`` without its port, lower-cased (``[::1]:8000`` -> ``[::1]``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.partition(":")[0]


def is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    return True


def origin_authority(origin: str) -> str | None:
    """``host[:port]`` of an ``Origin`` (default port dropped); None if it is not one."""
    scheme, separator, authority = origin.strip().lower().partition("://")
    if not separator or scheme not in DEFAULT_PORTS or not authority or "/" in authority:
        return None
    return authority.removesuffix(DEFAULT_PORTS[scheme])


class SiteRules:
    """The three checks, with this gateway's settings."""

    def __init__(self, config: dict[str, Any]) -> None:
        hosts = {entry.lower() for entry in ALLOWED_HOSTS.read(config)}
        self.any_host = "*" in hosts
        self.hosts = frozenset(entry for entry in hosts if not entry.startswith("."))
        self.domains = tuple(entry for entry in hosts if entry.startswith("."))
        self.origins = frozenset(
            entry.lower().rstrip("/") for entry in ALLOWED_ORIGINS.read(config)
        )

    def check_site(self, environ: dict[str, Any]) -> None:
        host = environ.get("HTTP_HOST", "")
        if not self.host_allowed(host_name(host)):
            raise HostNotAllowed("this host name is not served here (ALLOWED_HOSTS)")
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and not self.origin_allowed(origin, host):
            raise OriginNotAllowed("requests from other sites are not allowed (ALLOWED_ORIGINS)")

    def host_allowed(self, name: str) -> bool:
        if not name:
            return False
        return (
            self.any_host
            or name in self.hosts
            or name.endswith(self.domains)
            or is_ip_address(name)
        )

    def origin_allowed(self, origin: str, host: str) -> bool:
        if origin.lower().rstrip("/") in self.origins:
            return True
        authority = origin_authority(origin)
        if authority is None:  # "null" (sandboxed frames, files) or not an origin at all
            return False
        own = host.strip().lower()
        return authority in (own, own.removesuffix(":80"), own.removesuffix(":443"))

    @staticmethod
    def check_body_type(environ: dict[str, Any]) -> None:
        if environ["REQUEST_METHOD"] not in BODY_METHODS:
            return
        media_type, options = parse_options_header(environ.get("CONTENT_TYPE", ""))
        if media_type != JSON_MEDIA_TYPE or options.get("charset", "utf-8").lower() != "utf-8":
            raise UnsupportedMediaType("request bodies must be application/json (UTF-8)")
