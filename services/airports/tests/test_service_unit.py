"""Unit tests of the entrypoints alone: the store is a mock (worker_factory)."""

import pytest
from nameko.testing.services import worker_factory

from airports.service import AirportsService
from contracts.airports.v1 import Airport
from contracts.errors import InvalidArgument
from service_runtime.store import Created


def test_create_stores_the_trimmed_name():
    service = worker_factory(AirportsService, idempotency_key=None)
    service.store.create.return_value = Created(Airport(id="a1", name="Lisbon"), True)

    assert service.create("  Lisbon ") == "a1"
    service.store.create.assert_called_once_with(None, name="Lisbon")


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, 42, None])
def test_create_rejects_a_bad_name_without_storing(name):
    service = worker_factory(AirportsService, idempotency_key=None)

    with pytest.raises(InvalidArgument) as raised:
        service.create(name)

    assert raised.value.field == "name"
    service.store.create.assert_not_called()
