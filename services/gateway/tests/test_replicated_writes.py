"""REDIS_MIN_REPLICAS_ACK=1 where no replica holds the write (the test's Redis has none):
the client gets a retryable 503, never a 201 for a write a failover could lose, nor a 500
(issue 24 item 2; the replication itself: libs/service-runtime/tests/test_replication.py)."""

from http_assertions import assert_error

from airports.service import AirportsService
from gateway.service import GatewayService
from messages.service import MessagesService

# Far below the 1000 ms default: the test's Redis never has a replica to wait for.
SHORT_ACK_TIMEOUT_MS = 50


def test_a_write_no_replica_confirms_is_a_503(start, http_session):
    start(
        AirportsService,
        MessagesService,
        GatewayService,
        REDIS_MIN_REPLICAS_ACK=1,
        REDIS_REPLICA_ACK_TIMEOUT_MS=SHORT_ACK_TIMEOUT_MS,
    )

    keyed = http_session.post(
        "/airport", json={"airport": "Oslo"}, headers={"Idempotency-Key": "k-1"}
    )
    unkeyed = http_session.post("/airport", json={"airport": "Oslo"})
    message = http_session.post("/messages", json={"message": "hi"})

    assert_error(keyed, 503, "SERVICE_UNAVAILABLE")
    assert_error(unkeyed, 503, "SERVICE_UNAVAILABLE")
    assert_error(message, 503, "SERVICE_UNAVAILABLE")
    assert http_session.get("/messages").status_code == 200  # reads never wait
