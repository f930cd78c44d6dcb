"""Container health probe of every service image: ``python healthcheck.py CONFIG SERVICE``
(docs/operations.md, "What runs"), exit 0 when the service serves. Its config is read in
the environment the image's entrypoint gives the service (container_env.py), so it talks
to the same broker; it needs only nameko, so it also probes images of released versions.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from container_env import ConfigurationError, environment

PROBE_TIMEOUT_SECONDS = 3.0
# The whole probe, start-up included, ends by this deadline: kombu keeps retrying a broker
# that does not answer, and Docker does not kill a probe past its timeout, so hung probes
# would pile up, a Python process more every interval. Longer than the HEALTHCHECK
# timeouts it runs under (the image's, the swarm stack's): Docker has counted it failed.
DEADLINE_SECONDS = 45
# How long a broker node's name may take to resolve before the probe leaves that node out.
NAME_LOOKUP_SECONDS = 2.0


# nameko and yaml are imported where used, after the deadline is set: on a busy machine
# importing them alone can take seconds.
def load_config(path: str) -> dict[str, Any]:
    import yaml
    from nameko.cli.main import setup_yaml_parser

    setup_yaml_parser()
    with open(path) as config_file:
        return yaml.safe_load(config_file)


def http_health_ok(web_server_address: str, timeout: float) -> bool:
    port = web_server_address.rsplit(":", 1)[1]
    url = f"http://127.0.0.1:{port}/health"
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status == 200


def resolvable_nodes(amqp_uri: str, timeout: float = NAME_LOOKUP_SECONDS) -> str:
    """The nodes of ``amqp_uri`` (kombu's ``;``-separated failover list) whose names
    resolve within ``timeout``, all of them when none does: a lost first node's name, slow
    to fail, must not time out the probe of a replica serving through another node."""
    nodes = amqp_uri.split(";")
    resolved: set[str] = set()

    def lookup(node: str) -> None:
        try:
            socket.getaddrinfo(urlsplit(node).hostname, None)
        except OSError:
            return
        resolved.add(node)

    # Daemon threads: one still stuck in the resolver does not hold the probe's exit.
    threads = [threading.Thread(target=lookup, args=(node,), daemon=True) for node in nodes]
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return ";".join(node for node in nodes if node in resolved) or amqp_uri


def rpc_ping_ok(config: dict[str, Any], service: str, timeout: float) -> bool:
    from nameko.constants import AMQP_URI_CONFIG_KEY
    from nameko.standalone.rpc import ClusterRpcProxy

    config = {**config, AMQP_URI_CONFIG_KEY: resolvable_nodes(config[AMQP_URI_CONFIG_KEY])}
    with ClusterRpcProxy(config, timeout=timeout) as cluster:
        return getattr(cluster, service).ping().get("status") == "ok"


def probe(config: dict[str, Any], service: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> bool:
    """True when ``service`` (run with ``config``) answers within ``timeout``."""
    from nameko.constants import WEB_SERVER_CONFIG_KEY

    try:
        if config.get(WEB_SERVER_CONFIG_KEY):
            return http_health_ok(str(config[WEB_SERVER_CONFIG_KEY]), timeout)
        return rpc_ping_ok(config, service, timeout)
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"; say which
        print(f"{service} not healthy: {type(exc).__name__}: {exc}", file=sys.stderr)
        return False


def exit_at_deadline(service: str) -> None:
    def give_up(signum: int, frame: object) -> None:
        print(f"{service} not healthy: no answer within {DEADLINE_SECONDS} s", file=sys.stderr)
        os._exit(1)  # at once, whatever the probe is blocked in

    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(DEADLINE_SECONDS)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python healthcheck.py CONFIG SERVICE", file=sys.stderr)
        return 2
    config_path, service = argv
    exit_at_deadline(service)
    # Eventlet's green DNS resolver (dnspython) is half the import time of nameko, and the
    # probe does not need it: a probe is paid for every few seconds in every container.
    os.environ.setdefault("EVENTLET_NO_GREENDNS", "yes")
    try:
        os.environ.update(environment(os.environ))
    except ConfigurationError as exc:
        print(f"{service} not healthy: configuration error: {exc}", file=sys.stderr)
        return 1
    return 0 if probe(load_config(config_path), service) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
