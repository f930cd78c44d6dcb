"""Rate limit of ``POST /messages`` per client address (README, "Rate limit of the message
board"): a token bucket, the hash ``ratelimit:messages:<address>`` of ``{tokens, at_ms}``,
updated by one Lua script per post (atomic across gateways, timed by Redis's clock).
"""

from __future__ import annotations

import math
from typing import Any

from werkzeug.wrappers import Request

from gateway.errors import RateLimited
from service_runtime.settings import Setting, boolean
from service_runtime.store import RedisStore, StoreProvider

RATE_LIMIT_ENABLED = Setting(
    "MESSAGE_RATE_LIMIT_ENABLED", boolean, True, "rate-limit POST /messages per client address"
)
RATE_LIMIT_BURST = Setting(
    "MESSAGE_RATE_LIMIT_BURST", int, 10, "messages a client may post at once", minimum=1
)
RATE_LIMIT_WINDOW = Setting(
    "MESSAGE_RATE_LIMIT_WINDOW_SECONDS",
    float,
    10.0,
    "seconds in which a client's spent burst refills",
    minimum=0.001,
)

# KEYS[1]: the bucket; ARGV: capacity, refill per ms. Returns {1, 0} or {0, wait_ms}.
TAKE_TOKEN = """
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at_ms')
local tokens = tonumber(bucket[1]) or capacity
local at_ms = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at_ms) * per_ms)
local allowed, wait_ms = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait_ms = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at_ms', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / per_ms) + 1000)
return {allowed, wait_ms}
"""


class RateLimitStore(RedisStore):
    def take(self, address: str, capacity: int, window_seconds: float) -> float:
        """Take a token from ``address``'s bucket: 0.0, or the seconds until one is back."""
        per_ms = capacity / (window_seconds * 1000)
        key = self.key("ratelimit", "messages", address)
        with self.failures_as("gateway: rate-limit storage"):
            allowed, wait_ms = self.client.eval(TAKE_TOKEN, 1, key, capacity, repr(per_ms))
        return 0.0 if allowed else wait_ms / 1000


class MessageRateLimit(StoreProvider[RateLimitStore]):
    """Injects ``check(request)``: raises ``RateLimited`` when the client has no token."""

    def __init__(self) -> None:
        super().__init__(RateLimitStore)

    def setup(self) -> None:
        super().setup()
        config = self.container.config
        self.enabled = RATE_LIMIT_ENABLED.read(config)
        self.burst = RATE_LIMIT_BURST.read(config)
        self.window_seconds = RATE_LIMIT_WINDOW.read(config)

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.check

    def check(self, request: Request) -> None:
        if not self.enabled:
            return
        wait = self.store.take(request.remote_addr, self.burst, self.window_seconds)
        if wait > 0:
            raise RateLimited(
                f"too many messages from this client; try again in {wait:.1f} s",
                retry_after_seconds=max(1, math.ceil(wait)),
            )
