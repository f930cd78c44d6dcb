"""Every service as a ``nameko run`` process, exactly as deployed, isolated in a throwaway
RabbitMQ vhost and Redis key prefix, the gateway on a free loopback port.

For tests that only speak HTTP to the stack (browser, fuzzing): no eventlet is needed
in the test process.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from service_testing.launcher import running
from service_testing.local_brokers import local_amqp_uri, local_rabbit_api_uri, local_redis_url
from service_testing.ports import free_port
from service_testing.probes import http_200
from service_testing.processes import ServiceCommand, ServiceProcess
from service_testing.redis_keys import deleting_keys
from service_testing.services import SERVICES
from service_testing.vhosts import throwaway_vhost

GATEWAY = "gateway"


@dataclass(frozen=True)
class RunningStack:
    url: str  # the gateway's base URL
    processes: dict[str, ServiceProcess]  # by service name


@contextmanager
def running_stack(
    log_dir: Path,
    name_prefix: str,
    settings: Mapping[str, str] = {},
    per_service: Mapping[str, Mapping[str, str]] = {},
) -> Iterator[RunningStack]:
    """Every service with ``settings`` (and ``per_service[name]``) as extra environment,
    once the gateway's /ready is 200 (it needs every backend); stopped, its vhost
    (``name_prefix``...) and keys deleted, on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    redis_url = local_redis_url()
    commands = [
        replace(
            ServiceCommand.of(service),
            env=dict(per_service.get(service, {})),
            # The gateway serves once /ready is 200; the others once they answer ping.
            probe=http_200(f"{url}/ready") if service == GATEWAY else None,
        )
        for service in SERVICES
    ]
    with (
        throwaway_vhost(local_amqp_uri(), local_rabbit_api_uri(), name_prefix) as amqp_uri,
        deleting_keys(redis_url, f"test:{name_prefix}{uuid.uuid4().hex}:") as prefix,
    ):
        env = {
            "AMQP_URI": amqp_uri,
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": prefix,
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(port),
            **settings,
        }
        with running(commands, env, log_dir) as processes:
            yield RunningStack(url, {process.name: process for process in processes})
