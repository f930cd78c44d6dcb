"""The gateway keeps airports and trips it has seen (they never change), never a miss.

"Served from memory" is proved by removing the record from Redis behind the
services' back: only a cache can still answer. A cache must never answer for an
id that does not exist: a 404 is asked again, and answers once the record exists.
"""

import pytest

from airports.service import AirportsService
from airports.store import AirportStore
from contracts.airports.v1 import Airport
from gateway.service import GatewayService
from messages.service import MessagesService
from trips.service import TripsService
from trips.store import TripStore


@pytest.fixture
def airport_store(redis_client, redis_key_prefix):
    return AirportStore(redis_client, redis_key_prefix, {})


@pytest.fixture
def trip_store(redis_client, redis_key_prefix):
    return TripStore(redis_client, redis_key_prefix, {})


def forget_airport(store, airport_id):
    store.client.delete(store.key("airport", airport_id))


def test_an_airport_read_once_is_served_from_memory(api, airport_store):
    airport_store.write(Airport(id="lisbon", name="Lisbon"), only_if_new=False)
    assert api.get("/airport/lisbon").status_code == 200

    forget_airport(airport_store, "lisbon")

    response = api.get("/airport/lisbon")
    assert response.status_code == 200
    assert response.json() == {"id": "lisbon", "name": "Lisbon"}


def test_a_created_airport_is_kept_as_created(api, airport_store):
    created = api.post("/airport", json={"airport": "Porto"}).json()

    forget_airport(airport_store, created["id"])

    assert api.get(f"/airport/{created['id']}").json() == created


def test_an_unknown_airport_is_never_kept(api, airport_store):
    assert api.get("/airport/later").status_code == 404

    airport_store.write(Airport(id="later", name="Later"), only_if_new=False)

    response = api.get("/airport/later")
    assert response.status_code == 200
    assert response.json() == {"id": "later", "name": "Later"}


def test_a_trip_read_once_is_served_from_memory(api, trip_store):
    lisbon = api.post("/airport", json={"airport": "Lisbon"}).json()["id"]
    porto = api.post("/airport", json={"airport": "Porto"}).json()["id"]
    trip = api.post("/trip", json={"airport_from": lisbon, "airport_to": porto}).json()

    trip_store.client.delete(trip_store.key("trip", trip["id"]))

    response = api.get(f"/trip/{trip['id']}")
    assert response.status_code == 200
    assert response.json() == trip


def test_with_caching_off_every_read_asks_the_service(start, http_session, airport_store):
    start(AirportsService, TripsService, MessagesService, GatewayService, RECORD_CACHE_SIZE=0)
    airport_store.write(Airport(id="lisbon", name="Lisbon"), only_if_new=False)
    assert http_session.get("/airport/lisbon").status_code == 200

    forget_airport(airport_store, "lisbon")

    assert http_session.get("/airport/lisbon").status_code == 404
