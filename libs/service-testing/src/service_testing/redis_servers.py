"""Real Redis processes for the replication tests: a primary, its replica and a Sentinel,
each a ``redis-server`` on a free loopback port in a temporary directory (no snapshots,
no AOF: they start in milliseconds). ``redis-server --sentinel`` is redis-sentinel."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

from service_testing.ports import free_port
from service_testing.waiting import wait_until

START_TIMEOUT_SECONDS = 10
# Sentinel's own bounds, far below its defaults (30 s down-after, 3 min failover) so a
# failover completes within a test.
DOWN_AFTER_MS = 500
FAILOVER_TIMEOUT_MS = 3000


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=5)

    def answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.ConnectionError:
            return False

    def crash(self) -> None:
        self.process.kill()
        self.process.wait()


class RedisServers:
    """Starts servers in ``directory``; ``stop_all`` kills whatever is still running."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.servers: list[RedisServer] = []

    def start(self, *options: str, config: str = "", sentinel: bool = False) -> RedisServer:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        port = free_port()
        workdir = self.directory / str(port)
        workdir.mkdir()
        config_file = workdir / "redis.conf"  # Sentinel rewrites its config: a file of its own
        config_file.write_text(config)
        command = ["redis-server", str(config_file), "--port", str(port), "--bind", "127.0.0.1"]
        command += ["--dir", str(workdir), "--logfile", str(workdir / "log")]
        # A replica's first sync starts at once (Redis waits 5 s for more replicas).
        command += ["--sentinel"] if sentinel else [
            "--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0"
        ]  # fmt: skip
        server = RedisServer(port, subprocess.Popen([*command, *options]))
        self.servers.append(server)
        wait_until(server.answers, START_TIMEOUT_SECONDS, f"redis-server on port {port}")
        return server

    def primary(self) -> RedisServer:
        return self.start()

    def replica_of(self, primary: RedisServer) -> RedisServer:
        replica = self.start("--replicaof", "127.0.0.1", str(primary.port))
        wait_until(
            lambda: replica.client().info("replication").get("master_link_status") == "up",
            START_TIMEOUT_SECONDS,
            "the replica to finish its first sync",
        )
        return replica

    def sentinel(self, name: str, primary: RedisServer) -> RedisServer:
        config = (
            f"sentinel monitor {name} 127.0.0.1 {primary.port} 1\n"
            f"sentinel down-after-milliseconds {name} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {name} {FAILOVER_TIMEOUT_MS}\n"
        )
        return self.start(config=config, sentinel=True)

    def stop_all(self) -> None:
        for server in self.servers:
            if server.process.poll() is None:
                server.crash()


@contextmanager
def redis_servers(directory: Path) -> Iterator[RedisServers]:
    servers = RedisServers(directory)
    try:
        yield servers
    finally:
        servers.stop_all()
