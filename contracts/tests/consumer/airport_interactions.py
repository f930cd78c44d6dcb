"""airports.get interactions that both of its consumers (gateway, trips) rely on."""

from __future__ import annotations

from pact import Pact

from contract_testing.pact.wire import raises, returns, rpc_request
from contracts.airports import v1
from contracts.errors import NotFound

EXISTING = {"id": "a1", "name": "Lisbon"}


def existing_airport(pact: Pact, description: str) -> None:
    """``get("a1")`` answers the airport, given it exists."""
    interaction = pact.upon_receiving(description, "Sync").given("an airport exists", **EXISTING)
    returns(rpc_request(interaction, v1.GET, EXISTING["id"]), EXISTING)


def unknown_airport(pact: Pact, description: str) -> None:
    """``get("nowhere")`` raises ``NotFound`` blaming ``id``."""
    raises(rpc_request(pact.upon_receiving(description, "Sync"), v1.GET, "nowhere"), NotFound, "id")
