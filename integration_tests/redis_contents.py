"""What a compose stack's Redis holds, read inside its container with ``redis-cli``.

The truth behind the services: no cache in front of them (the gateway's record cache)
can answer for it. One Lua script per Redis reads every key atomically: its type, its
value and its remaining time to live.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from integration_tests.compose import ComposeStack

# Returns {key: [type, value, pttl]} as JSON (Redis's own cjson): a hash as its flat
# field/value list, a sorted set as its flat member/score list.
READ_EVERY_KEY = """
local found = {}
for _, key in ipairs(redis.call('KEYS', '*')) do
  local kind = redis.call('TYPE', key)['ok']
  local value
  if kind == 'hash' then value = redis.call('HGETALL', key)
  elseif kind == 'string' then value = redis.call('GET', key)
  elseif kind == 'zset' then value = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  else value = kind end
  found[key] = {kind, value, redis.call('PTTL', key)}
end
return cjson.encode(found)
"""


@dataclass(frozen=True)
class Entry:
    kind: str  # Redis's TYPE
    value: Any  # a string, or a hash/sorted set as a dict of strings
    ttl_ms: int  # PTTL: -1 when the key never expires


@dataclass(frozen=True)
class Contents:
    """Every key of one Redis, read at one instant between ``read_from`` and ``read_until``
    (wall clock, ``time.time()`` in ms: the clock Redis and the services use too)."""

    entries: dict[str, Entry]
    read_from: int
    read_until: int

    def starting(self, prefix: str) -> dict[str, Entry]:
        return {key: entry for key, entry in self.entries.items() if key.startswith(prefix)}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def read_redis(stack: ComposeStack, service: str) -> Contents:
    """Every key of compose service ``service`` (a Redis), with its value and TTL."""
    read_from = now_ms()
    output = stack.redis_cli(service, "EVAL", READ_EVERY_KEY, "0")
    read_until = now_ms()
    entries = {}
    for key, (kind, value, ttl_ms) in json.loads(output).items():
        if kind in ("hash", "zset"):
            value = dict(zip(value[::2], value[1::2], strict=True))
        entries[key] = Entry(kind, value, int(ttl_ms))
    return Contents(entries, read_from, read_until)
