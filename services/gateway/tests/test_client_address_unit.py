"""The client address the access log, the stream cap and the rate limit all use."""

import pytest

from gateway.access_log import client_address, networks

TRUSTED = networks("10.0.0.0/8")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("192.0.2.1", "203.0.113.9", "192.0.2.1"),  # untrusted peer: its header is ignored
        ("10.0.0.5", "203.0.113.9", "203.0.113.9"),
        ("10.0.0.5", "6.6.6.6, 203.0.113.9, 10.0.0.7", "203.0.113.9"),  # spoofed left part
        ("10.0.0.5", "", "10.0.0.5"),  # no header: the proxy itself
        ("10.0.0.5", "garbage, 10.0.0.9", "10.0.0.9"),  # never a non-address
    ],
)
def test_client_address(peer, forwarded_for, client):
    assert client_address(peer, forwarded_for, TRUSTED) == client
