"""``MessageStore`` against the real Redis: a repeated create with an idempotency key
(``RecordStore.create``) finds the first message and re-indexes it, refuses a key whose
message differs, and saves the key's message again once it has expired."""

import pytest

from contracts.errors import IdempotencyKeyReused, NotFound
from messages.store import MessageStore


@pytest.fixture
def messages(redis_client, redis_key_prefix):
    return MessageStore(redis_client, redis_key_prefix, {"MESSAGE_TTL_SECONDS": 60})


def test_a_repeated_create_finds_the_first_message_and_indexes_it_again(messages, redis_client):
    first = messages.create("key-1", text="hello")
    redis_client.zrem(messages.index_key, first.record.id)  # as if it died between its writes

    again = messages.create("key-1", text="hello")

    assert (first.new, again.new) == (True, False)
    assert again.record.id == first.record.id
    assert again.record.created == first.record.created
    assert [message.id for message in messages.newest(10)] == [first.record.id]


def test_a_key_used_for_another_text_is_refused(messages):
    messages.create("key-1", text="hello")

    with pytest.raises(IdempotencyKeyReused):
        messages.create("key-1", text="bye")


def test_once_its_message_expired_a_key_saves_it_again_under_the_same_id(messages, redis_client):
    first = messages.create("key-1", text="hello").record
    redis_client.delete(messages.key("message", first.id))  # Redis expired it

    again = messages.create("key-1", text="hello")

    assert again.new
    assert again.record.id == first.id


def test_a_missing_message_is_not_found_expired_or_never_existed(messages):
    with pytest.raises(NotFound) as raised:
        messages.found("gone")

    assert raised.value.field == "id"
    assert raised.value.message == "message 'gone' not found (expired or never existed)"
