"""One pact per consumer/provider pair, written when its test module ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from pact import Pact

from contract_testing.pact.consumer import write_pact


@pytest.fixture(scope="module")
def consumer_pact(pact_dir: Path) -> Iterator[Callable[[str, str], Pact]]:
    """``consumer_pact("gateway", "airports")``: the module's pact, written at its end."""
    pacts: list[tuple[str, Pact]] = []

    def make(consumer: str, provider: str) -> Pact:
        pact = Pact(consumer, provider).with_specification("V4")
        pacts.append((consumer, pact))
        return pact

    yield make
    for consumer, pact in pacts:
        write_pact(pact, pact_dir, consumer_version=version(f"travel-{consumer}"))
