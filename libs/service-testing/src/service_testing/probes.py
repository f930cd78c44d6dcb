"""How a launcher tells that a service process serves: ``ServiceCommand.probe`` values."""

from __future__ import annotations

from collections.abc import Callable

import requests
from nameko.exceptions import UnknownService
from nameko.standalone.rpc import ServiceRpcProxy

from service_testing.processes import ServiceProcess

PING_TIMEOUT_SECONDS = 5
# kombu's consumer prints this once the process's queue consumer is connected.
CONNECTED_LOG_LINE = "Connected to amqp://"


def answers_ping(service: str, amqp_uri: str) -> bool:
    try:
        with ServiceRpcProxy(
            service, {"AMQP_URI": amqp_uri}, timeout=PING_TIMEOUT_SECONDS
        ) as proxy:
            proxy.ping()
    except UnknownService:
        return False
    return True


def answers_200(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def rpc_served(process: ServiceProcess) -> bool:
    """Connected to the broker and its service answers ping. Another instance may
    already answer ping for the same queue: the log line is this process's own."""
    return CONNECTED_LOG_LINE in process.output() and answers_ping(
        process.name, process.env["AMQP_URI"]
    )


def http_200(url: str) -> Callable[[ServiceProcess], bool]:
    """For a web server (the gateway): ``url`` (its /health or /ready) answers 200."""
    return lambda process: answers_200(url)
