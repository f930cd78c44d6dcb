"""Provider verification: the real services run as ``nameko run`` processes (once
per test module) on a throwaway vhost; provider states go to real Redis under the
module's key prefix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from pact import Verifier

from contract_testing.pact.provider import RpcRelay


@pytest.fixture(scope="module")
def redis_client(module_redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(module_redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(scope="module")
def relay(module_amqp_uri: str) -> Iterator[RpcRelay]:
    with RpcRelay({"AMQP_URI": module_amqp_uri}) as relay:
        yield relay


@pytest.fixture
def verify(relay: RpcRelay) -> Callable[..., None]:
    """Verify one pact file against the running provider with pact's ``Verifier``."""

    def run(provider: str, pact_file: Path, states: dict[str, Callable[..., None]]) -> None:
        verifier = (
            Verifier(provider)
            .message_handler(relay)
            .state_handler(states, teardown=True)
            .add_source(pact_file)
        )
        try:
            verifier.verify()
        except Exception as failure:
            raise AssertionError(verifier.output(strip_ansi=True)) from failure

    return run
