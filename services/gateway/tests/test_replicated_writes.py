"""REDIS_MIN_REPLICAS_ACK=1 where no replica holds the write (the test's Redis has none):
the client gets a retryable 503, never a 201 for a write a failover could lose, nor a 500
(issue 24 item 2; the replication itself: libs/service-runtime/tests/test_replication.py)."""

from http_assertions import assert_error

from airports.service import AirportsService
from contracts.airports import SERVICE_NAME as AIRPORTS
from gateway.service import GatewayService
from messages.service import MessagesService
from service_testing.redis_servers import redis_servers

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


def test_a_service_finds_its_primary_through_sentinel_and_its_loss_is_a_503(
    start, http_session, gateway_config, tmp_path
):
    with redis_servers(tmp_path) as servers:
        primary = servers.primary()
        replica = servers.replica_of(primary)
        sentinel = servers.sentinel(AIRPORTS, primary)
        start(
            AirportsService,
            # Nothing listens at the URL's host: only the Sentinel can name the primary.
            REDIS_URIS={**gateway_config["REDIS_URIS"], AIRPORTS: "redis://127.0.0.1:1/0"},
            REDIS_SENTINELS=f"127.0.0.1:{sentinel.port}",
        )
        start(GatewayService, RECORD_CACHE_SIZE=0)  # every read asks airports
        created = http_session.post("/airport", json={"airport": "Oslo"})
        assert created.status_code == 201

        # Both copies gone: whatever the Sentinel has noticed by now, never a 500 or a hang.
        primary.crash()
        replica.crash()
        read = http_session.get(created.headers["Location"])
        write = http_session.post("/airport", json={"airport": "Bergen"})

    assert_error(read, 503, "SERVICE_UNAVAILABLE")
    assert_error(write, 503, "SERVICE_UNAVAILABLE")
