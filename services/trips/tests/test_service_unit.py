"""Unit tests of the entrypoints alone: store and airports proxy are mocks."""

from unittest.mock import Mock, call

import pytest
from nameko.testing.services import worker_factory

from contracts.errors import InvalidArgument, NotFound, SameAirport, UnknownAirport
from contracts.trips.v1 import Trip
from service_runtime.store import Created
from service_testing.records import records_uncached
from trips.service import TripsService

STORED = Trip(id="t1", airport_from="a1", airport_to="a2")


def trips_worker():
    # Caching off: each lookup reaches the mocked airports proxy.
    return worker_factory(TripsService, idempotency_key=None, **records_uncached(TripsService))


def service_with_one_call_log():
    """A worker whose airports lookups and store writes are recorded in one ordered list."""
    calls = Mock()
    calls.store_create.return_value = Created(STORED, True)
    service = trips_worker()
    service.airports.get = calls.airports_get
    service.store.create = calls.store_create
    return service, calls


@pytest.mark.parametrize(
    ("method", "answer"), [("create", STORED.id), ("create_v2", STORED.model_dump())]
)
def test_create_checks_both_airports_before_it_stores(method, answer):
    service, calls = service_with_one_call_log()

    assert getattr(service, method)("a1", "a2") == answer
    assert calls.mock_calls == [
        call.airports_get("a1"),
        call.airports_get("a2"),
        call.store_create(None, airport_from="a1", airport_to="a2"),
    ]


def test_same_airport_is_refused_before_any_rpc():
    service = trips_worker()

    with pytest.raises(SameAirport):
        service.create("a1", "a1")

    service.airports.get.assert_not_called()
    service.store.create.assert_not_called()


def test_unknown_airport_names_the_field():
    service = trips_worker()
    service.airports.get.side_effect = [{"id": "a1", "name": "x"}, NotFound("gone")]

    with pytest.raises(UnknownAirport) as raised:
        service.create("a1", "a2")

    assert raised.value.field == "airport_to"
    service.store.create.assert_not_called()


@pytest.mark.parametrize("args", [("", "a2"), ("a1", 7), (None, "a2")])
def test_bad_ids_are_invalid_arguments(args):
    service = trips_worker()

    with pytest.raises(InvalidArgument):
        service.create(*args)
