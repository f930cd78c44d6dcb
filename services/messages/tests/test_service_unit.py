"""Unit tests of the entrypoints alone: store and event dispatcher are mocks (worker_factory)."""

from unittest.mock import Mock, call

import pytest
from nameko.testing.services import worker_factory

from contracts.errors import InvalidArgument
from contracts.messages.v1 import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MESSAGE_TEXT_MAX_LENGTH, Message
from messages.service import MessagesService
from service_runtime.store import Created

SAVED = Message(id="m1", text="hello", created=1_000, expires=61_000, expires_in=60_000)


def test_save_stores_the_trimmed_text_and_returns_the_saved_message():
    service = worker_factory(MessagesService, idempotency_key=None)
    service.store.create.return_value = Created(SAVED, True)

    assert service.save_message("  hello \n") == SAVED.model_dump()
    service.store.create.assert_called_once_with(None, text="hello")


def test_save_stores_then_dispatches_message_created_with_id_text_and_times():
    # One parent mock records the store write and the event in the order they happen:
    # announcing a message that was never stored would send readers to a 404.
    calls = Mock()
    calls.store_create.return_value = Created(SAVED, True)
    service = worker_factory(MessagesService, dispatch=calls.dispatch, idempotency_key=None)
    service.store.create = calls.store_create

    service.save_message("hello")

    assert calls.mock_calls == [
        call.store_create(None, text="hello"),
        call.dispatch(
            "message_created", {"id": "m1", "text": "hello", "created": 1_000, "expires": 61_000}
        ),
    ]


def test_a_repeated_keyed_save_passes_the_key_and_announces_nothing_new():
    service = worker_factory(MessagesService, idempotency_key="k-1")
    service.store.create.return_value = Created(SAVED, False)  # the key's earlier message

    assert service.save_message("hello")["id"] == "m1"

    service.store.create.assert_called_once_with("k-1", text="hello")
    service.dispatch.assert_not_called()


@pytest.mark.parametrize("text", ["", "   ", "x" * (MESSAGE_TEXT_MAX_LENGTH + 1), 42, None])
def test_save_rejects_bad_text_without_storing_or_announcing(text):
    service = worker_factory(MessagesService, idempotency_key=None)

    with pytest.raises(InvalidArgument) as raised:
        service.save_message(text)

    assert raised.value.field == "text"
    service.store.create.assert_not_called()
    service.dispatch.assert_not_called()


def test_save_accepts_text_of_exactly_the_maximum_length():
    service = worker_factory(MessagesService, idempotency_key=None)
    service.store.create.return_value = Created(SAVED, True)

    service.save_message("x" * MESSAGE_TEXT_MAX_LENGTH)

    service.store.create.assert_called_once_with(None, text="x" * MESSAGE_TEXT_MAX_LENGTH)


def test_get_all_asks_the_store_for_the_default_page():
    service = worker_factory(MessagesService, idempotency_key=None)
    service.store.newest.return_value = [SAVED]

    assert service.get_all_messages() == [SAVED.model_dump()]
    service.store.newest.assert_called_once_with(DEFAULT_PAGE_SIZE)


@pytest.mark.parametrize("limit", [0, -1, MAX_PAGE_SIZE + 1, "10", 2.5, None])
def test_get_all_rejects_a_bad_limit(limit):
    service = worker_factory(MessagesService, idempotency_key=None)

    with pytest.raises(InvalidArgument) as raised:
        service.get_all_messages(limit=limit)

    assert raised.value.field == "limit"
    service.store.newest.assert_not_called()
