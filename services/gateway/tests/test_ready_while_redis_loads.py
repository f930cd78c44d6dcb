"""``/ready`` is 503, naming the service, while that service's Redis is still loading
its data after a restart, and 200 once the data is back: no request is routed to a
store that looks empty (service_runtime.store.RedisStore.ping; docs/operations.md).

A Redis process of the test's own (the shared Redis cannot be restarted), with
enough keys, each delayed on load, that loading takes seconds, and set to answer
other clients (with LOADING) every KiB it reads.
"""

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests

from airports.service import AirportsService
from gateway.service import GatewayService
from messages.service import MessagesService
from service_testing.ports import free_port
from service_testing.waiting import wait_until
from trips.service import TripsService

LOADING_KEYS = 20_000
SLOW_LOADING = ("--key-load-delay", "200", "--loading-process-events-interval-bytes", "1024")


class RestartableRedis:
    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("needs redis-server on PATH: apt-get install -y redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.command = [
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(directory),
            "--save", "", "--appendonly", "no", "--logfile", str(directory / "redis.log"),
            *SLOW_LOADING,
        ]  # fmt: skip
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command)
        wait_until(lambda: self.loading() is not None, 30, f"redis-server on :{self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)

    def loading(self) -> bool | None:
        """Whether it is loading its data; None while it does not answer."""
        try:
            with redis.Redis.from_url(self.url, socket_timeout=2) as client:
                return bool(client.info("persistence").get("loading"))
        except redis.ConnectionError:
            return None


@pytest.fixture
def restartable_redis(tmp_path) -> Iterator[RestartableRedis]:
    server = RestartableRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_ready_is_503_naming_the_service_while_its_redis_loads(
    start, http_session, service_config, restartable_redis
):
    with redis.Redis.from_url(restartable_redis.url) as client:
        with client.pipeline(transaction=False) as pipe:
            for number in range(LOADING_KEYS):
                pipe.set(f"filler:{number}", number)
            pipe.execute()
        client.save()
    redis_uris = {**service_config["REDIS_URIS"], "airports": restartable_redis.url}
    start(AirportsService, TripsService, MessagesService, GatewayService, REDIS_URIS=redis_uris)
    assert http_session.get("/ready").status_code == 200
    answers_while_loading: list[requests.Response] = []

    def answered_while_loading() -> bool:
        # Loading before and after the request: it was answered during the load, not
        # while the server was still down.
        if restartable_redis.loading():
            response = http_session.get("/ready")
            if restartable_redis.loading():
                answers_while_loading.append(response)
        return bool(answers_while_loading)

    restartable_redis.stop()
    restartable_redis.start()
    wait_until(answered_while_loading, 30, "/ready's answer while airports' Redis loads")
    wait_until(lambda: http_session.get("/ready").status_code == 200, 60, "/ready once loaded")

    assert answers_while_loading[0].status_code == 503
    assert answers_while_loading[0].json()["missing"] == ["airports"]
    with redis.Redis.from_url(restartable_redis.url) as client:
        assert client.dbsize() == LOADING_KEYS
