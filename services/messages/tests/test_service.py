"""The messages service in a real container, over real RabbitMQ and Redis.

Expiry is Redis's own: these tests run with a one-second TTL and wait (bounded)
for Redis to drop the messages, never for a fixed time.
"""

import eventlet
import pytest
from nameko.events import event_handler
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter

from contracts.errors import InvalidArgument, NotFound
from contracts.messages.v1 import MAX_PAGE_SIZE
from messages.service import MessagesService
from service_testing.waiting import wait_until

SHORT_TTL_SECONDS = 1


class MessageCreatedListener:
    """Another service reacting to the event, as a real consumer would."""

    name = "message_created_listener"

    @event_handler("messages", "message_created")
    def on_message_created(self, payload):
        return payload


@pytest.fixture
def start_messages(container_factory, service_config):
    def start(**config_overrides):
        config = {**service_config, **config_overrides}
        container_factory(MessagesService, config).start()
        return ServiceRpcProxy("messages", config, timeout=10)

    return start


@pytest.fixture
def messages(start_messages):
    with start_messages() as proxy:
        yield proxy


@pytest.fixture
def short_lived_messages(start_messages):
    with start_messages(MESSAGE_TTL_SECONDS=SHORT_TTL_SECONDS) as proxy:
        yield proxy


def save_in_order(messages, texts):
    """Save ``texts`` one after the other, at least a millisecond apart."""
    saved = []
    for text in texts:
        saved.append(messages.save_message(text))
        eventlet.sleep(0.002)
    return saved


def test_saved_message_reads_back_with_its_times(messages):
    saved = messages.save_message("hello")

    read = messages.get_message(saved["id"])
    assert read["text"] == "hello"
    assert read["created"] == saved["created"]
    assert read["expires"] == saved["created"] + 60_000
    assert 0 < read["expires_in"] <= 60_000


def test_message_is_one_key_with_redis_expiry_under_the_prefix(
    messages, redis_client, redis_key_prefix
):
    saved = messages.save_message("hello")

    key = f"{redis_key_prefix}message:{saved['id']}"
    assert 0 < redis_client.pttl(key) <= 60_000
    assert redis_client.zscore(f"{redis_key_prefix}messages:by_expiry", saved["id"]) == float(
        saved["expires"]
    )


def test_expires_in_is_what_redis_reports(messages, redis_client, redis_key_prefix):
    saved = messages.save_message("hello")
    redis_client.pexpire(f"{redis_key_prefix}message:{saved['id']}", 5_000)

    assert 0 < messages.get_message(saved["id"])["expires_in"] <= 5_000


def test_list_is_newest_first_and_paged(messages):
    saved = save_in_order(messages, ["one", "two", "three", "four"])

    listed = messages.get_all_messages(limit=3)

    assert [m["text"] for m in listed] == ["four", "three", "two"]
    assert [m["id"] for m in listed] == [s["id"] for s in reversed(saved[1:])]
    assert all(0 < m["expires_in"] <= 60_000 for m in listed)
    assert [m["text"] for m in messages.get_all_messages()] == ["four", "three", "two", "one"]


def test_list_holds_at_most_the_maximum_page_size(messages):
    for number in range(MAX_PAGE_SIZE + 5):
        messages.save_message(f"message {number}")

    assert len(messages.get_all_messages(limit=MAX_PAGE_SIZE)) == MAX_PAGE_SIZE
    with pytest.raises(InvalidArgument) as raised:
        messages.get_all_messages(limit=MAX_PAGE_SIZE + 1)
    assert raised.value.field == "limit"


def test_message_expires_for_real_and_then_is_not_found(short_lived_messages):
    saved = short_lived_messages.save_message("soon gone")
    assert short_lived_messages.get_message(saved["id"])["text"] == "soon gone"

    def gone():
        try:
            short_lived_messages.get_message(saved["id"])
        except NotFound:
            return True
        return False

    wait_until(gone, 15, "the message to expire")
    assert short_lived_messages.get_all_messages() == []


def test_expired_ids_are_pruned_from_the_index(
    short_lived_messages, redis_client, redis_key_prefix
):
    index = f"{redis_key_prefix}messages:by_expiry"
    old = save_in_order(short_lived_messages, ["a", "b", "c"])
    assert redis_client.zcard(index) == 3
    wait_until(
        lambda: redis_client.exists(*(f"{redis_key_prefix}message:{m['id']}" for m in old)) == 0,
        15,
        "Redis to drop the expired keys",
    )
    # Redis dropped the keys; the index still holds their ids until the next call prunes.
    assert redis_client.zcard(index) == 3

    fresh = short_lived_messages.save_message("d")

    assert redis_client.zrange(index, 0, -1) == [fresh["id"]]


def test_listing_prunes_the_index_too(short_lived_messages, redis_client, redis_key_prefix):
    index = f"{redis_key_prefix}messages:by_expiry"
    short_lived_messages.save_message("a")
    wait_until(lambda: not short_lived_messages.get_all_messages(), 15, "the list to empty")

    assert redis_client.zcard(index) == 0


def test_an_indexed_id_whose_key_is_gone_is_skipped(messages, redis_client, redis_key_prefix):
    kept, dropped = save_in_order(messages, ["kept", "dropped"])
    redis_client.delete(f"{redis_key_prefix}message:{dropped['id']}")

    assert [m["id"] for m in messages.get_all_messages()] == [kept["id"]]
    with pytest.raises(NotFound):
        messages.get_message(dropped["id"])


def test_unknown_message_raises_typed_not_found_across_rpc(messages):
    with pytest.raises(NotFound) as raised:
        messages.get_message("does-not-exist")

    assert raised.value.field == "id"


def test_empty_text_raises_typed_invalid_argument_across_rpc(messages):
    with pytest.raises(InvalidArgument) as raised:
        messages.save_message("   ")

    assert raised.value.field == "text"


def test_saving_dispatches_message_created_with_the_saved_fields(
    container_factory, service_config, messages
):
    listener = container_factory(MessageCreatedListener, service_config)
    listener.start()

    with entrypoint_waiter(listener, "on_message_created", timeout=10) as result:
        saved = messages.save_message("announce me")

    assert result.get() == {
        "id": saved["id"],
        "text": "announce me",
        "created": saved["created"],
        "expires": saved["expires"],
    }


def test_ping_answers_when_redis_does(messages):
    assert messages.ping() == {"service": "messages", "status": "ok"}
