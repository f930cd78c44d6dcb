"""A name that stops resolving must not freeze the process (issue 24 item 7).

After a machine loss each lookup of a vanished name waited ~10 s for a DNS server
that no longer answered; with the C library's resolver on the eventlet hub, nothing
else in the process ran meanwhile. Here the system resolver is replaced by one that
blocks its OS thread until released, as the C library's does, and the gateway must
keep answering ``/health`` while a lookup hangs.
"""

import socket
from types import SimpleNamespace

import pytest
from eventlet import patcher, spawn

from gateway.service import GatewayService
from service_runtime.name_lookup import LOOKUPS, resolve_names_off_the_hub

# How long the stand-in resolver blocks unless released: far longer than the test
# needs, so a lookup that blocked the hub shows as "finished before /health answered".
HANG_BOUND_SECONDS = 20.0
VANISHED = "rabbitmq.vanished.test"
NativeEvent = patcher.original("threading").Event
system_socket = patcher.original("socket")


@pytest.fixture
def hanging_resolver(monkeypatch):
    """The system resolver, except that ``VANISHED`` hangs as on a machine whose DNS
    server stopped answering; installed the way service_runtime.serve installs the
    real one, the socket module restored after."""
    from eventlet.green import socket as green_socket

    for module in (socket, green_socket):
        for name in LOOKUPS:
            monkeypatch.setattr(module, name, getattr(module, name))
    released = NativeEvent()

    def getaddrinfo(host, *args, **kwargs):
        if host != VANISHED:
            return system_socket.getaddrinfo(host, *args, **kwargs)
        released.wait(HANG_BOUND_SECONDS)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    lookups = {name: getattr(system_socket, name) for name in LOOKUPS}
    resolve_names_off_the_hub(SimpleNamespace(**{**lookups, "getaddrinfo": getaddrinfo}))
    yield
    released.set()


def test_health_answers_while_a_name_lookup_hangs(start, http_session, hanging_resolver):
    start(GatewayService)
    lookup = spawn(socket.getaddrinfo, VANISHED, 5672)

    assert http_session.get("/health").status_code == 200
    assert not lookup.dead, "the lookup ended before /health answered: it blocked the process"


def test_lookups_give_the_system_resolvers_answers(monkeypatch):
    for name in LOOKUPS:
        monkeypatch.setattr(socket, name, getattr(socket, name))
    resolve_names_off_the_hub()

    assert socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("name-that-does-not-exist.invalid", 80)


def test_a_lookup_still_unanswered_at_its_bound_gives_up(monkeypatch):
    # A resolver that answers, but only after far longer than the bound: the caller must
    # get the resolver's "try again" at the bound, and move on (to the next node).
    for name in LOOKUPS:
        monkeypatch.setattr(socket, name, getattr(socket, name))
    released = NativeEvent()

    def slow_getaddrinfo(host, *args, **kwargs):
        released.wait(HANG_BOUND_SECONDS)
        return system_socket.getaddrinfo("localhost", *args, **kwargs)

    lookups = {name: getattr(system_socket, name) for name in LOOKUPS}
    resolve_names_off_the_hub(SimpleNamespace(**{**lookups, "getaddrinfo": slow_getaddrinfo}), 0.5)
    try:
        with pytest.raises(socket.gaierror, match="gave up"):
            socket.getaddrinfo(VANISHED, 5672)
    finally:
        released.set()
