"""``POST /messages`` is rate-limited per client address; 429 with Retry-After.

Which address is the client's (the edge's view, believed from the edge alone):
test_hostile_clients.py, through the real edge.
"""

import math
import time

import pytest
from http_assertions import assert_error

from gateway.service import GatewayService
from messages.service import MessagesService

BURST = 3
REFILL_SECONDS = 3  # with a burst of one: one token back every window


@pytest.fixture
def board(start, http_session):
    def started(**config):
        start(MessagesService, GatewayService, **{"MESSAGE_RATE_LIMIT_BURST": BURST, **config})
        return http_session

    return started


def post(api, text):
    return api.post("/messages", json={"message": text})


def test_burst_then_429_with_retry_after_until_a_token_is_back(board):
    window = 30  # one token back every window / burst = 10 s
    api = board(MESSAGE_RATE_LIMIT_WINDOW_SECONDS=window)

    started = time.monotonic()
    statuses = [post(api, f"m{n}").status_code for n in range(BURST)]
    refused = post(api, "one too many")
    elapsed = time.monotonic() - started

    assert statuses == [201] * BURST
    assert_error(refused, 429, "RATE_LIMITED")
    # The bucket refills from the first post on: what is left of one token's time, in
    # whole seconds, rounded up.
    token_seconds = window / BURST
    assert (
        math.ceil(token_seconds - elapsed) <= int(refused.headers["Retry-After"]) <= token_seconds
    )
    assert len(api.get("/messages").json()) == BURST


def test_one_more_post_is_allowed_once_retry_after_has_passed(board):
    # A token every REFILL_SECONDS: long enough that the second post is always too soon,
    # however busy the machine (at 0.5 s a slow machine refilled it in between).
    api = board(MESSAGE_RATE_LIMIT_BURST=1, MESSAGE_RATE_LIMIT_WINDOW_SECONDS=REFILL_SECONDS)
    assert post(api, "first").status_code == 201
    refused = post(api, "too soon")
    assert_error(refused, 429, "RATE_LIMITED")

    time.sleep(int(refused.headers["Retry-After"]))  # what the client is told to do

    assert post(api, "after the wait").status_code == 201


def test_off_switch(board):
    api = board(MESSAGE_RATE_LIMIT_ENABLED=False)

    assert {post(api, f"m{n}").status_code for n in range(BURST + 2)} == {201}
