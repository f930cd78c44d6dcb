"""One test's own corner of shared brokers: a throwaway RabbitMQ vhost, a Redis key
prefix whose keys are deleted afterwards, and the environment that points service
processes (their config.yaml) at both. Other runs on the same brokers never meet it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from service_testing.local_brokers import local_amqp_uri, local_rabbit_api_uri, local_redis_url
from service_testing.redis_keys import deleting_keys, new_key_prefix
from service_testing.vhosts import throwaway_vhost


@dataclass(frozen=True)
class IsolatedEnvironment:
    amqp_uri: str  # the throwaway vhost
    redis_url: str
    key_prefix: str

    def env(self, **settings: str) -> dict[str, str]:
        """Environment for service processes: the vhost, Redis and key prefix, plus
        ``settings`` (more config.yaml variables)."""
        return {
            "AMQP_URI": self.amqp_uri,
            "REDIS_URL": self.redis_url,
            "REDIS_KEY_PREFIX": self.key_prefix,
            **settings,
        }


@contextmanager
def isolated_environment(
    owner: str,
    amqp_uri: str | None = None,
    rabbit_api_uri: str | None = None,
    redis_url: str | None = None,
) -> Iterator[IsolatedEnvironment]:
    """A vhost ``<owner>_test_<random>`` and a key prefix ``test-<owner>-<random>-``,
    deleted (the vhost, and only the keys under the prefix) when the block ends, also
    when it failed. The brokers default to the local ones (``service_testing.local_brokers``);
    ``owner`` tells whose leftovers a killed run's vhost is."""
    redis_url = redis_url or local_redis_url()
    with (
        throwaway_vhost(
            amqp_uri or local_amqp_uri(), rabbit_api_uri or local_rabbit_api_uri(), f"{owner}_test_"
        ) as vhost_uri,
        deleting_keys(redis_url, new_key_prefix(owner)) as prefix,
    ):
        yield IsolatedEnvironment(vhost_uri, redis_url, prefix)
