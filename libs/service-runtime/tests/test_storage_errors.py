"""``storage_error``: the one place a Redis failure becomes its typed error (503 at the
gateway), against real redis-server processes: one at its memory bound, one gone."""

import pytest
import redis

from contracts.errors import ServiceUnavailable, StorageFull
from service_runtime.store import storage_error
from service_testing.redis_servers import redis_servers


def failure(call) -> redis.RedisError:
    with pytest.raises(redis.RedisError) as raised:
        call()
    return raised.value


def test_a_redis_at_its_memory_bound_is_storage_full(tmp_path):
    with redis_servers(tmp_path) as started:
        full = started.start("--maxmemory", "1", "--maxmemory-policy", "noeviction").client()
        error = storage_error(failure(lambda: full.set("k", "v")), "airports: storage")

    assert isinstance(error, StorageFull)
    assert error.message == "airports: storage is full"


def test_a_redis_that_is_gone_is_unavailable(tmp_path):
    with redis_servers(tmp_path) as started:
        server = started.primary()
        server.crash()
        error = storage_error(failure(server.client().ping), "airports: storage")

    assert type(error) is ServiceUnavailable
    assert error.message == "airports: storage unavailable"


def test_any_other_redis_error_is_not_a_storage_failure():
    assert storage_error(redis.ResponseError("WRONGTYPE"), "airports: storage") is None
