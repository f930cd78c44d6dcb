"""A test's Redis data is the keys under its own prefix: deleted afterwards, nothing else is."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager


def new_key_prefix(owner: str) -> str:
    """A Redis key prefix no other test uses. No colons: release 1.0.0's config.yaml
    (run by the side-by-side tests) reads ``REDIS_KEY_PREFIX`` as YAML, where a value
    ending in ":" turns into a mapping."""
    return f"test-{owner}-{uuid.uuid4().hex}-"


def delete_keys_with_prefix(redis_url: str, prefix: str) -> None:
    """Delete every key under ``prefix`` (a test's own data, never anyone else's)."""
    # Imported here: the pytest plugin imports this module before a test's conftest
    # applies eventlet's monkey-patch, and redis must be imported after it.
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@contextmanager
def deleting_keys(redis_url: str, prefix: str) -> Iterator[str]:
    """``prefix``, whose keys are deleted when the block ends (also when it failed)."""
    try:
        yield prefix
    finally:
        delete_keys_with_prefix(redis_url, prefix)
