"""services/healthcheck.py, the images' health probe: a broker node whose name does not
resolve in time is left out of the probe's node list."""

from __future__ import annotations

import importlib.util
import sys
import threading

from service_testing.services import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "services"))  # the probe imports container_env beside it
_spec = importlib.util.spec_from_file_location(
    "healthcheck", REPO_ROOT / "services" / "healthcheck.py"
)
healthcheck = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(healthcheck)

NODES = "pyamqp://u:p@rabbitmq1:5672/;pyamqp://u:p@rabbitmq2:5672/;pyamqp://u:p@rabbitmq3:5672/"


def resolver(lost: set[str], released: threading.Event):
    """A resolver that holds each lookup of a ``lost`` name until ``released``, as one
    waiting on a DNS server that does not answer, and answers the others at once."""

    def getaddrinfo(host, *args, **kwargs):
        if host in lost:
            released.wait(60)
            raise OSError("Temporary failure in name resolution")
        return [(2, 1, 6, "", ("10.0.0.1", 0))]

    return getaddrinfo


def test_a_node_whose_name_does_not_resolve_in_time_is_left_out(monkeypatch):
    released = threading.Event()
    monkeypatch.setattr(healthcheck.socket, "getaddrinfo", resolver({"rabbitmq1"}, released))
    try:
        kept = healthcheck.resolvable_nodes(NODES, timeout=0.5)
    finally:
        released.set()
    assert kept == "pyamqp://u:p@rabbitmq2:5672/;pyamqp://u:p@rabbitmq3:5672/"


def test_when_no_name_resolves_the_list_stays_whole(monkeypatch):
    released = threading.Event()
    every = {"rabbitmq1", "rabbitmq2", "rabbitmq3"}
    monkeypatch.setattr(healthcheck.socket, "getaddrinfo", resolver(every, released))
    try:
        assert healthcheck.resolvable_nodes(NODES, timeout=0.2) == NODES
    finally:
        released.set()
