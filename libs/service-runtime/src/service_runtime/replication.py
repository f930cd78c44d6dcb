"""Redis with replicas and Sentinels: docs/scaling.md, "Replicated storage"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import redis
from redis.client import Pipeline
from redis.connection import parse_url
from redis.sentinel import Sentinel

from service_runtime.settings import Setting, string_list

REDIS_SENTINELS = Setting(
    "REDIS_SENTINELS",
    string_list,
    (),
    "host:port of each Sentinel watching the service's Redis (empty: REDIS_URL's Redis)",
)
REDIS_MIN_REPLICAS_ACK = Setting(
    "REDIS_MIN_REPLICAS_ACK",
    int,
    0,
    "replicas that must hold a write before it is acknowledged (Redis WAIT)",
    minimum=0,
)
REDIS_REPLICA_ACK_TIMEOUT_MS = Setting(
    "REDIS_REPLICA_ACK_TIMEOUT_MS",
    int,
    1000,
    "how long a write waits for its replicas before it is a 503",
    minimum=1,
    # Below the store's socket timeout (service_runtime.store, 5 s): a WAIT that outlasted it
    # would end as a socket timeout, which redis-py retries by sending the write again.
    maximum=4000,
)
# The commands this project writes records with (EVAL(SHA) included; a pipeline or MULTI
# waits when any of its commands is one). Not ZREMRANGEBYSCORE, which reads (GET /messages)
# run to drop expired index entries: one lost in a failover is dropped again.
WRITES = frozenset({
    "SET", "SETEX", "PSETEX", "HSET", "HDEL", "DEL", "UNLINK", "EXPIRE", "PEXPIRE",
    "ZADD", "ZREM", "INCR", "INCRBY", "HINCRBY", "EVAL", "EVALSHA", "FCALL",
})  # fmt: skip


class UnreplicatedWrite(redis.RedisError):
    """The primary took the write but too few replicas confirmed it in time."""


class ReplicaAcks:
    """Writes that return only once ``min_replicas`` replicas hold them: a ``WAIT`` on the
    connection that wrote, right after the write's reply (WAIT covers that connection's
    writes only, so a WAIT through the pool would confirm nothing)."""

    min_replicas = 0
    ack_timeout_ms = REDIS_REPLICA_ACK_TIMEOUT_MS.default

    def await_replicas_if_written(self, connection: Any, commands: Iterable[Any]) -> None:
        if self.min_replicas <= 0 or not any(str(name).upper() in WRITES for name in commands):
            return
        connection.send_command("WAIT", self.min_replicas, self.ack_timeout_ms)
        confirmed = int(connection.read_response())
        if confirmed < self.min_replicas:
            raise UnreplicatedWrite(
                f"{confirmed} of {self.min_replicas} replicas confirmed the write within "
                f"{self.ack_timeout_ms} ms"
            )


class ReplicatedRedis(ReplicaAcks, redis.Redis):
    """Deviation from redis-py's public API: the hooks are its per-connection steps
    ``_send_command_parse_response`` and the pipeline's ``_execute_transaction`` and
    ``_execute_pipeline``, the only places that hold the writing connection."""

    def require_replicas(self, count: int, timeout_ms: int) -> ReplicatedRedis:
        self.min_replicas, self.ack_timeout_ms = count, timeout_ms
        return self

    def _send_command_parse_response(
        self, conn: Any, command_name: Any, *args: Any, **options: Any
    ) -> Any:
        response = super()._send_command_parse_response(conn, command_name, *args, **options)
        self.await_replicas_if_written(conn, [command_name])
        return response

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> ReplicatedPipeline:
        pipe = ReplicatedPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )
        pipe.min_replicas, pipe.ack_timeout_ms = self.min_replicas, self.ack_timeout_ms
        return pipe


class ReplicatedPipeline(ReplicaAcks, Pipeline):
    def _execute_transaction(self, connection: Any, commands: Any, raise_on_error: Any) -> Any:
        replies = super()._execute_transaction(connection, commands, raise_on_error)
        self.await_replicas_if_written(connection, (args[0] for args, _ in commands))
        return replies

    def _execute_pipeline(self, connection: Any, commands: Any, raise_on_error: Any) -> Any:
        replies = super()._execute_pipeline(connection, commands, raise_on_error)
        self.await_replicas_if_written(connection, (args[0] for args, _ in commands))
        return replies


def sentinel_address(entry: str) -> tuple[str, int]:
    host, _, port = entry.rpartition(":")
    return host, int(port)


def redis_client(
    url: str, primary_name: str, config: Mapping[str, Any], options: Mapping[str, Any]
) -> ReplicatedRedis:
    """The client for the Redis ``url`` names, or for the primary that ``config``'s
    Sentinels name ``primary_name``; its writes wait for the configured replicas."""
    sentinels = REDIS_SENTINELS.read(config)
    if sentinels:
        # The URL's database and credentials; its host and port are the Sentinels' to say.
        connection = {k: v for k, v in parse_url(url).items() if k not in ("host", "port")}
        sentinel_options = {k: v for k, v in options.items() if k.startswith("socket_")}
        client = Sentinel(
            [sentinel_address(entry) for entry in sentinels], sentinel_kwargs=sentinel_options
        ).master_for(primary_name, redis_class=ReplicatedRedis, **connection, **options)
    else:
        client = ReplicatedRedis.from_url(url, **options)
    return client.require_replicas(
        REDIS_MIN_REPLICAS_ACK.read(config), REDIS_REPLICA_ACK_TIMEOUT_MS.read(config)
    )
