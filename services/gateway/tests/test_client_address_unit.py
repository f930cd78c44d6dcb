"""``TrustedProxies``: whose X-Forwarded-For the gateway believes (the edge's, alone)."""

import ipaddress

import pytest

from gateway.client_address import RESOLVE_INTERVAL_SECONDS, TrustedProxies


class Names:
    """A stand-in DNS: what each name resolves to now, and every lookup made."""

    def __init__(self, **answers):
        self.answers = answers
        self.lookups = []

    def __call__(self, name):
        self.lookups.append(name)
        return {ipaddress.ip_address(a) for a in self.answers.get(name, ())}


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize(
    ("entries", "peer", "trusted"),
    [
        (("10.0.0.5",), "10.0.0.5", True),
        (("10.0.0.5",), "10.0.0.6", False),
        (("10.0.0.0/8",), "10.200.1.2", True),
        (("10.0.0.0/8",), "192.0.2.1", False),
        (("10.0.0.0/8",), "not an address", False),
        ((), "127.0.0.1", False),  # by default nobody's
    ],
)
def test_addresses_and_networks(entries, peer, trusted):
    assert TrustedProxies(entries, resolve=Names()).trust(peer) is trusted


def test_a_name_stands_for_every_address_it_resolves_to():
    names = Names(edge=["172.18.0.4", "172.18.0.9"])
    proxies = TrustedProxies(("edge",), resolve=names, clock=Clock())

    assert proxies.trust("172.18.0.4")
    assert proxies.trust("172.18.0.9")
    assert names.lookups == ["edge"]  # the second peer was known already


def test_an_edge_that_moved_is_found_again_but_lookups_are_bounded():
    names, clock = Names(edge=["172.18.0.4"]), Clock()
    proxies = TrustedProxies(("edge",), resolve=names, clock=clock)
    assert proxies.trust("172.18.0.4")

    names.answers["edge"] = ["172.18.0.7"]  # the edge restarted elsewhere
    assert not proxies.trust("172.18.0.7")  # within the interval: no new lookup
    clock.now += RESOLVE_INTERVAL_SECONDS

    assert proxies.trust("172.18.0.7")
    assert not proxies.trust("172.18.0.4")  # its old address is no longer trusted
    assert names.lookups == ["edge", "edge"]
