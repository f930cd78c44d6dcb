"""``RecordStore.create`` (service_runtime.store) against the real Redis, through the
airports' store: one record per idempotency key, however often the call comes."""

import pytest

from airports.store import AirportStore
from contracts.errors import IdempotencyKeyReused, NotFound


@pytest.fixture
def airports(redis_client, redis_key_prefix):
    return AirportStore(redis_client, redis_key_prefix, {})


def test_a_create_without_a_key_stores_a_new_record_each_time(airports):
    first, second = (airports.create(name="Lisbon") for _ in range(2))

    assert (first.new, second.new) == (True, True)
    assert first.record.id != second.record.id
    assert airports.get(first.record.id) == first.record


def test_a_repeated_create_with_a_key_answers_with_the_first_record(airports):
    first = airports.create("key-1", name="Lisbon")
    again = airports.create("key-1", name="Lisbon")

    assert (first.new, again.new) == (True, False)
    assert again.record == first.record == airports.get(first.record.id)


def test_each_key_gives_its_own_id(airports):
    created = airports.create("key-1", name="Lisbon").record

    assert airports.create("key-2", name="Lisbon").record.id != created.id


def test_a_key_reused_for_another_record_is_refused_and_changes_nothing(airports):
    created = airports.create("key-1", name="Lisbon").record

    with pytest.raises(IdempotencyKeyReused):
        airports.create("key-1", name="Porto")

    assert airports.get(created.id) == created


def test_found_gives_the_record_and_raises_not_found_naming_the_id_for_a_missing_one(airports):
    created = airports.create(name="Lisbon").record

    assert airports.found(created.id) == created
    with pytest.raises(NotFound) as raised:
        airports.found("nope")
    assert (raised.value.field, raised.value.message) == ("id", "airport 'nope' not found")
