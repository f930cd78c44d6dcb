"""service_runtime's StoreProvider (nameko-redis underneath) in a real container
against the real Redis: the client options reach the connections, and stop or
kill leaves no connection open.

Here because airports' test venv is the smallest that holds service_runtime.
"""

import socket
import time
import uuid
from contextlib import closing

import eventlet
import pytest
import redis
from nameko.testing.utils import get_extension

from service_runtime.chassis import RpcService
from service_runtime.settings import SettingError
from service_runtime.store import REDIS_SOCKET_TIMEOUT_SECONDS, RedisStore, StoreProvider
from service_testing.waiting import wait_until

CONCURRENT_COMMANDS = 3


def service_class(**options):
    """A service of its own name: its connections are told apart from everyone else's
    on the shared Redis by their client name (the provider names them after the key)."""
    name = f"lifecycle_{uuid.uuid4().hex[:12]}"
    return type(
        "LifecycleService",
        (RpcService,),
        {"name": name, "store": StoreProvider(RedisStore, **options)},
    )


@pytest.fixture
def admin(redis_url):
    with closing(redis.Redis.from_url(redis_url, decode_responses=True)) as client:
        yield client


def open_connections(admin, client_name: str) -> int:
    return sum(1 for client in admin.client_list() if client["name"] == client_name)


def start_with_connections(container_factory, service_config, cls):
    """A started container whose pool holds CONCURRENT_COMMANDS open connections."""
    config = {**service_config, "REDIS_URIS": {cls.name: service_config["REDIS_URIS"]["airports"]}}
    container = container_factory(cls, config)
    container.start()
    client = get_extension(container, StoreProvider).client
    pool = eventlet.GreenPool()
    for _ in range(CONCURRENT_COMMANDS):
        # Blocking pops at the same time: each needs a connection of its own.
        pool.spawn(client.blpop, f"{cls.name}:nothing", 0.2)
    pool.waitall()
    return container


@pytest.mark.parametrize("ending", ["stop", "kill"])
def test_stop_and_kill_close_every_pooled_connection(
    ending, container_factory, service_config, admin
):
    cls = service_class()
    container = start_with_connections(container_factory, service_config, cls)
    # Held on purpose, as a lingering green thread or a logged traceback would: with
    # nameko-redis alone (it only drops its own reference) the sockets would stay open.
    store = get_extension(container, StoreProvider).store
    before = open_connections(admin, cls.name)

    getattr(container, ending)()

    wait_until(
        lambda: open_connections(admin, cls.name) == 0, 5, f"{cls.name}'s connections to close"
    )
    assert before == CONCURRENT_COMMANDS
    assert store.client is not None


def test_client_gets_the_socket_and_connect_timeouts(container_factory, service_config):
    cls = service_class()
    container = start_with_connections(container_factory, service_config, cls)
    pool = get_extension(container, StoreProvider).client.connection_pool

    connection = pool.get_connection()
    try:
        assert (connection.socket_timeout, connection.socket_connect_timeout) == (
            REDIS_SOCKET_TIMEOUT_SECONDS,
            REDIS_SOCKET_TIMEOUT_SECONDS,
        )
        assert connection.client_name == cls.name
    finally:
        pool.release(connection)


# Far below the 5 s default (REDIS_SOCKET_TIMEOUT_SECONDS): a provider that ignored its
# options and kept the default would take at least 5 s and fail the bound below.
SILENT_REDIS_TIMEOUT_SECONDS = 0.2


def test_a_redis_that_never_answers_times_out_with_the_configured_bound(
    container_factory, service_config
):
    # Accepts connections (the listen backlog does) and never replies.
    with closing(socket.create_server(("127.0.0.1", 0))) as silent:
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        cls = service_class(
            socket_timeout=SILENT_REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=SILENT_REDIS_TIMEOUT_SECONDS,
            client_name="silent",
        )
        container = container_factory(cls, {**service_config, "REDIS_URIS": {cls.name: url}})
        container.start()
        store = get_extension(container, StoreProvider).store

        started = time.monotonic()
        with pytest.raises(redis.TimeoutError):
            store.ping()
        elapsed = time.monotonic() - started

    # It waited for the configured bound (not an instant refusal), and gave up long
    # before the default: half of it leaves a loaded machine seconds of slack.
    assert SILENT_REDIS_TIMEOUT_SECONDS <= elapsed < REDIS_SOCKET_TIMEOUT_SECONDS / 2


def test_a_service_missing_from_redis_uris_fails_at_start_naming_it(
    container_factory, service_config
):
    cls = service_class()
    container = container_factory(cls, service_config)

    with pytest.raises(SettingError, match=cls.name):
        container.start()
