"""Throwaway RabbitMQ vhosts, created and deleted through the management API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from nameko.testing.rabbit import Client
from requests import RequestException

from service_testing.waiting import wait_until

MANAGEMENT_API_WAIT_SECONDS = 30


@contextmanager
def throwaway_vhost(amqp_uri: str, rabbit_api_uri: str, name_prefix: str) -> Iterator[str]:
    """The AMQP URI of a vhost ``<name_prefix><random>`` created now and deleted on exit.

    Its queues start empty: messages another run (or a killed process) left behind
    cannot reach the services in it. ``name_prefix`` tells whose leftovers a vhost is
    (CI deletes those of killed runs by prefix).
    """
    api = Client(rabbit_api_uri)
    parts = urlsplit(amqp_uri)
    vhost = f"{name_prefix}{uuid.uuid4().hex[:12]}"

    def created() -> bool:
        # A fresh container's management API may answer a moment after AMQP does.
        try:
            api.create_vhost(vhost)
        except RequestException:
            return False
        return True

    wait_until(
        created, MANAGEMENT_API_WAIT_SECONDS, f"the RabbitMQ management API at {parts.hostname}"
    )
    try:
        api.set_vhost_permissions(vhost, parts.username, ".*", ".*", ".*")
        yield f"{parts.scheme}://{parts.netloc}/{vhost}"
    finally:
        api.delete_vhost(vhost)
