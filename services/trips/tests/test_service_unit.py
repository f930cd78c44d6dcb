"""Unit tests of the entrypoints alone: store and airports proxy are mocks."""

import pytest
from nameko.testing.services import worker_factory

from contracts.errors import InvalidArgument, NotFound, SameAirport, UnknownAirport
from trips.service import TripsService


def test_create_checks_both_airports_then_stores():
    service = worker_factory(TripsService, idempotency_key=None)
    service.store.create.return_value = "t1"

    assert service.create("a1", "a2") == "t1"
    assert [c.args for c in service.airports.get.call_args_list] == [("a1",), ("a2",)]
    service.store.create.assert_called_once_with("a1", "a2", None)


def test_same_airport_is_refused_before_any_rpc():
    service = worker_factory(TripsService, idempotency_key=None)

    with pytest.raises(SameAirport):
        service.create("a1", "a1")

    service.airports.get.assert_not_called()
    service.store.create.assert_not_called()


def test_unknown_airport_names_the_field():
    service = worker_factory(TripsService, idempotency_key=None)
    service.airports.get.side_effect = [{"id": "a1", "name": "x"}, NotFound("gone")]

    with pytest.raises(UnknownAirport) as raised:
        service.create("a1", "a2")

    assert raised.value.field == "airport_to"
    service.store.create.assert_not_called()


@pytest.mark.parametrize("args", [("", "a2"), ("a1", 7), (None, "a2")])
def test_bad_ids_are_invalid_arguments(args):
    service = worker_factory(TripsService, idempotency_key=None)

    with pytest.raises(InvalidArgument):
        service.create(*args)
