"""``POST /messages`` is rate-limited per client address; 429 with Retry-After."""

import pytest
from http_assertions import assert_error

from gateway.service import GatewayService
from messages.service import MessagesService

BURST = 3


@pytest.fixture
def board(start, http_session):
    def started(**config):
        start(
            MessagesService,
            GatewayService,
            MESSAGE_RATE_LIMIT_BURST=BURST,
            MESSAGE_RATE_LIMIT_WINDOW_SECONDS=30,
            **config,
        )
        return http_session

    return started


def post(api, text, forwarded_for=None):
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    return api.post("/messages", json={"message": text}, headers=headers)


def test_burst_then_429_with_retry_after(board):
    api = board()

    statuses = [post(api, f"m{n}").status_code for n in range(BURST)]
    refused = post(api, "one too many")

    assert statuses == [201] * BURST
    assert_error(refused, 429, "RATE_LIMITED")
    # One token back takes window / burst = 10 s.
    assert 1 <= int(refused.headers["Retry-After"]) <= 10
    assert len(api.get("/messages").json()) == BURST


def test_off_switch(board):
    api = board(MESSAGE_RATE_LIMIT_ENABLED=False)

    assert {post(api, f"m{n}").status_code for n in range(BURST + 2)} == {201}


def test_forwarded_for_is_ignored_from_an_untrusted_peer(board):
    api = board()

    statuses = [post(api, "m", forwarded_for=f"203.0.113.{n}").status_code for n in range(5)]

    assert statuses == [201] * BURST + [429] * 2


def test_forwarded_for_names_the_client_behind_a_trusted_proxy(board):
    api = board(TRUSTED_PROXIES="127.0.0.1")

    others = [post(api, "m", forwarded_for=f"203.0.113.{n}").status_code for n in range(5)]
    same = [post(api, "m", forwarded_for="198.51.100.7").status_code for _ in range(BURST + 1)]

    assert others == [201] * 5
    assert same == [201] * BURST + [429]
