"""Redis with a replica (issue 24 item 2), against real redis-server processes: writes
answered only once a replica holds them, the primary found through Sentinel and followed
through a failover, ``REDIS_URL`` alone still one Redis."""

import pytest
import redis

from service_runtime.replication import (
    REDIS_REPLICA_ACK_TIMEOUT_MS,
    UnreplicatedWrite,
    redis_client,
)
from service_runtime.store import CLIENT_OPTIONS
from service_testing.redis_servers import redis_servers
from service_testing.waiting import wait_until

PRIMARY_NAME = "airports"
# Each side of the 1000 ms default: a connected replica always confirms within the long
# bound, however loaded the machine; a missing one is reported after the short one.
REPLICA_ACK_BOUND_MS = REDIS_REPLICA_ACK_TIMEOUT_MS.maximum
SHORT_ACK_TIMEOUT_MS = 100
# Sentinel notices the loss after service_testing.redis_servers.DOWN_AFTER_MS, then
# elects and promotes: seconds, never this long.
FAILOVER_BOUND_SECONDS = 30


@pytest.fixture
def servers(tmp_path):
    with redis_servers(tmp_path) as started:
        yield started


def acknowledged(sentinels="", timeout_ms=REPLICA_ACK_BOUND_MS):
    return {
        "REDIS_MIN_REPLICAS_ACK": 1,
        "REDIS_REPLICA_ACK_TIMEOUT_MS": timeout_ms,
        "REDIS_SENTINELS": sentinels,
    }


def impatiently(sentinels=""):
    return acknowledged(sentinels, SHORT_ACK_TIMEOUT_MS)


def test_a_write_is_answered_once_the_replica_holds_it(servers):
    primary = servers.primary()
    replica = servers.replica_of(primary)
    client = redis_client(primary.url, PRIMARY_NAME, acknowledged(), CLIENT_OPTIONS)

    client.hset("airport:1", mapping={"code": "LHR"})
    pipe = client.pipeline(transaction=True)
    pipe.set("message:1", "hello")
    pipe.zadd("messages", {"1": 1})
    pipe.execute()

    # No wait here: the acknowledgement itself says the replica has both.
    assert replica.client().hgetall("airport:1") == {"code": "LHR"}
    assert replica.client().get("message:1") == "hello"


def test_a_write_no_replica_confirms_is_an_error_not_an_answer(servers):
    primary = servers.primary()
    replica = servers.replica_of(primary)
    client = redis_client(primary.url, PRIMARY_NAME, impatiently(), CLIENT_OPTIONS)
    replica.crash()
    wait_until(
        lambda: primary.client().info("replication")["connected_slaves"] == 0,
        FAILOVER_BOUND_SECONDS,
        "the primary to see its replica gone",
    )

    with pytest.raises(UnreplicatedWrite):
        client.set("airport:2", "written but not replicated")
    with pytest.raises(UnreplicatedWrite):
        client.pipeline(transaction=True).set("message:2", "x").execute()
    with pytest.raises(UnreplicatedWrite):
        client.eval("return redis.call('SET', KEYS[1], 'x')", 1, "airport:3")
    assert client.get("airport:2") == "written but not replicated"  # reads never wait


def test_without_acknowledgement_writes_do_not_wait(servers):
    primary = servers.primary()
    client = redis_client(primary.url, PRIMARY_NAME, {}, CLIENT_OPTIONS)

    assert client.set("airport:1", "LHR")  # no replica at all, and no error


def test_sentinel_names_the_primary_and_no_acknowledged_write_is_lost_in_a_failover(servers):
    primary = servers.primary()
    replica = servers.replica_of(primary)
    sentinels = f"127.0.0.1:{servers.sentinel(PRIMARY_NAME, primary).port}"
    # The URL's host names no Redis: only the Sentinel can say where the primary is.
    url = "redis://127.0.0.1:1/0"
    client = redis_client(url, PRIMARY_NAME, acknowledged(sentinels), CLIENT_OPTIONS)
    impatient = redis_client(url, PRIMARY_NAME, impatiently(sentinels), CLIENT_OPTIONS)
    client.set("airport:1", "acknowledged before the crash")

    primary.crash()

    def read_back():
        try:
            return client.get("airport:1") == "acknowledged before the crash"
        except (redis.ConnectionError, redis.TimeoutError):
            return False

    wait_until(read_back, FAILOVER_BOUND_SECONDS, "the write read back from the new primary")
    assert replica.client().info("replication")["role"] == "master"
    # The promoted replica has no replica of its own yet: writes are refused, not risked.
    with pytest.raises(UnreplicatedWrite):
        impatient.set("airport:2", "while nothing replicates")

    servers.replica_of(replica)  # the lost machine's Redis back, as a replica

    assert client.set("airport:2", "after the rejoin")
