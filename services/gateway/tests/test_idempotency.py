"""``Idempotency-Key``: a retried create answers the same and creates nothing new."""

import uuid

import eventlet
import pytest
import redis
from edge_client import EdgeClient
from http_assertions import assert_error
from nameko.standalone.rpc import ServiceRpcProxy

from airports.service import AirportsService
from gateway.idempotency import IDEMPOTENCY_KEY_TTL
from gateway.service import GatewayService
from messages.service import MessagesService
from service_runtime.store import IDEMPOTENCY_KEY_CONTEXT
from trips.service import TripsService

CONCURRENT_RETRIES = 8


@pytest.fixture
def store(redis_url, redis_key_prefix):
    """Counts the records the services wrote in this test's key space."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)

    def count(pattern):
        return len(list(client.scan_iter(match=f"{redis_key_prefix}{pattern}")))

    yield count
    client.close()


@pytest.fixture
def airport_ids(api):
    return [
        api.post("/airport", json={"airport": name}).json()["id"] for name in ("Lima", "Bogota")
    ]


@pytest.fixture(params=["airport", "trip", "messages"])
def create(request, api, airport_ids):
    """(path, body, another body, the record keys' pattern) for each creating route."""
    return {
        "airport": ("/airport", {"airport": "Quito"}, {"airport": "Cusco"}, "airport:*"),
        "trip": (
            "/trip",
            {"airport_from": airport_ids[0], "airport_to": airport_ids[1]},
            {"airport_from": airport_ids[1], "airport_to": airport_ids[0]},
            "trip:*",
        ),
        "messages": ("/messages", {"message": "hola"}, {"message": "adios"}, "message:*"),
    }[request.param]


def test_retry_with_the_same_key_replays_the_answer_and_creates_nothing(api, create, store):
    path, body, _, records = create
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    before = store(records)

    first = api.post(path, json=body, headers=headers)
    retry = api.post(path, json=body, headers=headers)

    assert first.status_code == retry.status_code == 201, first.text
    assert retry.json() == first.json()
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert store(records) == before + 1


def test_same_key_with_another_body_is_422(api, create, store):
    path, body, other_body, records = create
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    api.post(path, json=body, headers=headers)
    before = store(records)

    response = api.post(path, json=other_body, headers=headers)

    assert_error(response, 422, "IDEMPOTENCY_KEY_REUSED", "Idempotency-Key")
    assert store(records) == before


def test_racing_retries_create_one_record(api, create, store):
    path, body, _, records = create
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    before = store(records)

    pool = eventlet.GreenPool(CONCURRENT_RETRIES)
    answers = list(
        pool.imap(lambda _: api.post(path, json=body, headers=headers), range(CONCURRENT_RETRIES))
    )

    assert {answer.status_code for answer in answers} == {201}
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert store(records) == before + 1


@pytest.mark.parametrize(("path", "field"), [("/airport", "airport"), ("/messages", "message")])
def test_racing_different_bodies_on_one_key_are_422_naming_the_header(start, edge, path, field):
    # What a probe found: a 422 the service raised came back with "field": "None".
    start(AirportsService, MessagesService, GatewayService)
    headers = {"Idempotency-Key": uuid.uuid4().hex}

    with EdgeClient(edge().url) as client:
        pool = eventlet.GreenPool(CONCURRENT_RETRIES)
        answers = list(
            pool.imap(
                lambda n: client.post(path, json={field: f"body {n}"}, headers=headers),
                range(CONCURRENT_RETRIES),
            )
        )

    created = [answer for answer in answers if answer.status_code == 201]
    assert len(created) == 1
    for answer in answers:
        if answer not in created:
            assert_error(answer, 422, "IDEMPOTENCY_KEY_REUSED", "Idempotency-Key")


def test_without_a_key_every_post_creates(api, store):
    before = store("airport:*")

    ids = {api.post("/airport", json={"airport": "Quito"}).json()["id"] for _ in range(2)}

    assert len(ids) == 2
    assert store("airport:*") == before + 2


def test_redelivered_call_with_the_key_creates_one_record(start, gateway_config, store):
    """What RabbitMQ does when the instance handling a call dies: the same message,
    context data included, reaches an instance again."""
    start(AirportsService)
    key = uuid.uuid4().hex

    with ServiceRpcProxy(
        "airports", gateway_config, context_data={IDEMPOTENCY_KEY_CONTEXT: key}
    ) as airports:
        first = airports.create_v2("Quito")
        again = airports.create_v2("Quito")
        via_v1 = airports.create("Quito")

    assert first == again
    assert via_v1 == first["id"]
    assert store("airport:*") == 1


def test_keys_expire_after_the_configured_time(api, redis_url, redis_key_prefix):
    api.post("/airport", json={"airport": "Quito"}, headers={"Idempotency-Key": "k-1"})

    client = redis.Redis.from_url(redis_url)
    try:
        [answer_key] = client.scan_iter(match=f"{redis_key_prefix}idempotency:*")
        ttl = client.ttl(answer_key)
    finally:
        client.close()
    assert IDEMPOTENCY_KEY_TTL.default - 60 < ttl <= IDEMPOTENCY_KEY_TTL.default == 24 * 3600


def test_key_is_forgotten_once_expired(start, http_session):
    start(
        AirportsService,
        TripsService,
        MessagesService,
        GatewayService,
        IDEMPOTENCY_KEY_TTL_SECONDS=1,
    )
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    http_session.post("/messages", json={"message": "one"}, headers=headers)
    eventlet.sleep(1.5)

    # The gateway no longer knows the key; the service still has the key's message.
    response = http_session.post("/messages", json={"message": "one"}, headers=headers)

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
def test_malformed_key_is_400(api, key):
    response = api.post("/airport", json={"airport": "Quito"}, headers={"Idempotency-Key": key})

    assert_error(response, 400, "INVALID_ARGUMENT", "Idempotency-Key")
