"""Container health probe of every service image: ``python healthcheck.py CONFIG SERVICE``.

Exits 0 when the service really serves, 1 otherwise, within a bounded time:

* a service with a web server (``WEB_SERVER_ADDRESS`` in its config, i.e. the
  gateway) must answer ``GET /health`` with 200;
* an RPC service must answer its ``ping`` RPC (``service_runtime.health``), which
  proves its consumer is bound to the broker and its Redis answers, not merely
  that the process exists.

The config file is read the way ``nameko run`` reads it (``${VAR:default}``
substitution), so the probe talks to the same broker as the service.

Part of the image recipe (services/Dockerfile), not of a service package: it needs
only nameko, so it also probes images of released versions built from older code.
"""

from __future__ import annotations

import sys
import urllib.request
from typing import Any

import yaml
from nameko.cli.main import setup_yaml_parser
from nameko.constants import WEB_SERVER_CONFIG_KEY
from nameko.standalone.rpc import ClusterRpcProxy

PROBE_TIMEOUT_SECONDS = 3.0


def load_config(path: str) -> dict[str, Any]:
    setup_yaml_parser()
    with open(path) as config_file:
        return yaml.safe_load(config_file)


def http_health_ok(web_server_address: str, timeout: float) -> bool:
    port = web_server_address.rsplit(":", 1)[1]
    url = f"http://127.0.0.1:{port}/health"
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status == 200


def rpc_ping_ok(config: dict[str, Any], service: str, timeout: float) -> bool:
    with ClusterRpcProxy(config, timeout=timeout) as cluster:
        return getattr(cluster, service).ping().get("status") == "ok"


def probe(config: dict[str, Any], service: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> bool:
    """True when ``service`` (run with ``config``) answers within ``timeout``."""
    try:
        if config.get(WEB_SERVER_CONFIG_KEY):
            return http_health_ok(str(config[WEB_SERVER_CONFIG_KEY]), timeout)
        return rpc_ping_ok(config, service, timeout)
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"; say which
        print(f"{service} not healthy: {type(exc).__name__}: {exc}", file=sys.stderr)
        return False


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python healthcheck.py CONFIG SERVICE", file=sys.stderr)
        return 2
    config_path, service = argv
    return 0 if probe(load_config(config_path), service) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
