"""The messenger's JSON API over real HTTP, with the real messages service."""

import eventlet
import pytest
from http_assertions import assert_error

from contracts.messages.v1 import MAX_PAGE_SIZE, MESSAGE_TEXT_MAX_LENGTH
from gateway.service import GatewayService
from messages.service import MessagesService


def post_message(api, text):
    response = api.post("/messages", json={"message": text})
    assert response.status_code == 201, response.text
    return response.json()


def test_post_message_is_201_with_location_and_expiry(api):
    response = api.post("/messages", json={"message": "  hello  "})

    assert response.status_code == 201
    body = response.json()
    assert body["text"] == "hello"
    assert body["expires"] == body["created"] + 60_000
    assert body["expires_in"] == 60_000
    assert response.headers["Location"] == f"/messages/{body['id']}"


def test_posted_message_reads_back_with_the_time_left(api):
    posted = post_message(api, "hello")

    response = api.get(f"/messages/{posted['id']}")

    assert response.status_code == 200
    read = response.json()
    assert {k: read[k] for k in ("id", "text", "created", "expires")} == {
        k: posted[k] for k in ("id", "text", "created", "expires")
    }
    assert 0 < read["expires_in"] <= 60_000


def test_list_is_newest_first_and_paged_by_limit(api):
    for text in ("one", "two", "three"):
        post_message(api, text)
        eventlet.sleep(0.002)  # distinct creation milliseconds

    everything = api.get("/messages")
    page = api.get("/messages", params={"limit": 2})

    assert everything.status_code == 200
    assert [m["text"] for m in everything.json()] == ["three", "two", "one"]
    assert all(0 < m["expires_in"] <= 60_000 for m in everything.json())
    assert [m["text"] for m in page.json()] == ["three", "two"]


def test_unknown_message_is_404(api):
    assert_error(api.get("/messages/nope"), 404, "NOT_FOUND", "id")


def test_expired_message_is_404_and_leaves_the_list(start, http_session):
    start(MessagesService, GatewayService, MESSAGE_TTL_SECONDS=1)
    posted = post_message(http_session, "soon gone")
    assert http_session.get(f"/messages/{posted['id']}").status_code == 200

    with eventlet.Timeout(15):
        while (response := http_session.get(f"/messages/{posted['id']}")).status_code == 200:
            eventlet.sleep(0.1)

    assert_error(response, 404, "NOT_FOUND", "id")
    assert http_session.get("/messages").json() == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"message": ""},
        {"message": "   \n\t"},
        {"message": "x" * (MESSAGE_TEXT_MAX_LENGTH + 1)},
        # Over the limit as sent, within it once trimmed: the schema's maxLength is as sent.
        {"message": "\v" + "x" * MESSAGE_TEXT_MAX_LENGTH},
        {"message": 42},
        {"message": None},
        {"message": ["hello"]},
    ],
)
def test_bad_message_is_400_naming_the_field(api, body):
    assert_error(api.post("/messages", json=body), 400, "INVALID_ARGUMENT", "message")


def test_unknown_field_is_400_naming_it(api):
    response = api.post("/messages", json={"message": "hi", "author": "me"})

    assert_error(response, 400, "INVALID_ARGUMENT", "author")


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe", b'["hello"]', b'"hello"'])
def test_malformed_json_is_400(api, raw):
    response = api.post("/messages", data=raw, headers={"Content-Type": "application/json"})

    assert_error(response, 400, "MALFORMED_JSON")


@pytest.mark.parametrize("limit", ["abc", "", "2.5", "0", "-1", str(MAX_PAGE_SIZE + 1)])
def test_bad_limit_is_400_naming_it(api, limit):
    assert_error(api.get("/messages", params={"limit": limit}), 400, "INVALID_ARGUMENT", "limit")


def test_absent_messages_service_is_503(start, http_session):
    start(GatewayService)

    assert_error(http_session.get("/messages"), 503, "SERVICE_UNAVAILABLE")
