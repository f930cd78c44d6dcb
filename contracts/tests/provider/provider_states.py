"""Provider states, written to real Redis with the services' own stores.

A handler gets ``(action, parameters)``: "setup" stores what the state names,
"teardown" deletes every key under the test's prefix, so the next interaction
starts from an empty store.
"""

from __future__ import annotations

from collections.abc import Callable

import redis

from airports.store import AirportStore
from contracts.airports.v1 import Airport
from contracts.trips.v1 import Trip
from messages.store import MessageStore
from trips.store import TripStore

StateHandler = Callable[[str, dict], None]


def clear_prefix(client: redis.Redis, prefix: str) -> None:
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


def airport_states(client: redis.Redis, prefix: str) -> dict[str, StateHandler]:
    """States the airports service's consumers use."""
    airports = AirportStore(client, prefix, {})

    def an_airport_exists(action: str, parameters: dict) -> None:
        if action == "setup":
            airports.write(Airport(**parameters), only_if_new=False)
        else:
            clear_prefix(client, prefix)

    return {"an airport exists": an_airport_exists}


def trip_states(client: redis.Redis, prefix: str) -> dict[str, StateHandler]:
    """States the trips service's consumers use (its airports run beside it)."""
    trips = TripStore(client, prefix, {})

    def a_trip_exists(action: str, parameters: dict) -> None:
        if action == "setup":
            trips.write(Trip(**parameters), only_if_new=False)
        else:
            clear_prefix(client, prefix)

    return {**airport_states(client, prefix), "a trip exists": a_trip_exists}


def message_states(client: redis.Redis, prefix: str) -> dict[str, StateHandler]:
    """States the messages service's consumers use (ids are the store's own)."""
    messages = MessageStore(client, prefix, {})

    def a_message_exists(action: str, parameters: dict) -> None:
        if action == "setup":
            messages.create(text=parameters["text"])
        else:
            clear_prefix(client, prefix)

    return {"a message exists": a_message_exists}
