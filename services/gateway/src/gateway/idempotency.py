"""``Idempotency-Key`` on the creating routes (README, "Idempotency-Key"); each remembered
answer is the JSON ``StoredAnswer`` at ``idempotency:<route>:<sha256 of the key>``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel
from werkzeug.wrappers import Request, Response

from contracts.errors import IdempotencyKeyReused, InvalidArgument, ServiceUnavailable
from gateway.errors import json_response
from service_runtime.settings import Setting
from service_runtime.store import IDEMPOTENCY_KEY_CONTEXT, RedisStore, StoreProvider

IDEMPOTENCY_KEY_TTL = Setting(
    "IDEMPOTENCY_KEY_TTL_SECONDS",
    int,
    24 * 60 * 60,
    "how long the gateway remembers an Idempotency-Key and its answer",
    minimum=1,
)
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Printable ASCII, no spaces; long enough for a UUID or a client's own scheme.
ACCEPTED_KEY = re.compile(r"[\x21-\x7e]{1,255}")


@dataclass(frozen=True)
class StoredAnswer:
    fingerprint: str  # of the request: route and validated body
    status: int
    body: Any
    location: str | None

    def response(self) -> Response:
        headers = {REPLAYED_HEADER: "true"}
        if self.location is not None:
            headers["Location"] = self.location
        return json_response(self.status, self.body, headers)


class IdempotencyStore(RedisStore):
    storage = "gateway: idempotency storage"

    def recall(self, route: str, key: str) -> StoredAnswer | None:
        with self.failures_as(self.storage):
            raw = self.client.get(self._answer_key(route, key))
        return None if raw is None else StoredAnswer(**json.loads(raw))

    def remember(self, route: str, key: str, answer: StoredAnswer) -> None:
        ttl = IDEMPOTENCY_KEY_TTL.read(self.config)
        value = json.dumps(asdict(answer))
        # Redis down or full: only the replay is lost (a retry finds the service's record).
        with contextlib.suppress(ServiceUnavailable), self.failures_as(self.storage):
            self.client.set(self._answer_key(route, key), value, nx=True, ex=ttl)

    def _answer_key(self, route: str, key: str) -> str:
        return self.key("idempotency", route, hashlib.sha256(key.encode()).hexdigest())


class IdempotentCreates:
    """One request's view: ``create(request, body, make_response)``."""

    def __init__(self, store: IdempotencyStore, context_data: dict[str, Any]) -> None:
        self.store = store
        self.context_data = context_data

    def create(
        self, request: Request, body: BaseModel, make_response: Callable[[], Response]
    ) -> Response:
        """``make_response()``, or the answer remembered for the request's key."""
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return make_response()
        if not ACCEPTED_KEY.fullmatch(key):
            raise InvalidArgument(
                f"{IDEMPOTENCY_HEADER}: 1 to 255 printable ASCII characters without spaces",
                field=IDEMPOTENCY_HEADER,
            )
        route = request.path
        # The body as the client named its fields (by_alias: POST /airport's "airport").
        request_json = body.model_dump_json(by_alias=True)
        fingerprint = hashlib.sha256(f"{route}\n{request_json}".encode()).hexdigest()
        earlier = self.store.recall(route, key)
        if earlier is not None:
            if earlier.fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    f"{IDEMPOTENCY_HEADER} {key!r} was used for a different request",
                    field=IDEMPOTENCY_HEADER,
                )
            return earlier.response()
        # Travels with every RPC call this worker makes from here on.
        self.context_data[IDEMPOTENCY_KEY_CONTEXT] = key
        try:
            response = make_response()
        except IdempotencyKeyReused as reused:
            # A race of different bodies on one key, found by the service.
            raise IdempotencyKeyReused(reused.message, field=IDEMPOTENCY_HEADER) from None
        if 200 <= response.status_code < 300:
            answer = StoredAnswer(
                fingerprint, response.status_code, response.json, response.headers.get("Location")
            )
            self.store.remember(route, key, answer)
        return response


class Idempotency(StoreProvider[IdempotencyStore]):
    """Injects ``IdempotentCreates`` bound to the data the worker sends with its RPC calls."""

    def __init__(self) -> None:
        super().__init__(IdempotencyStore)

    def get_dependency(self, worker_ctx: Any) -> IdempotentCreates:
        # ``data`` itself: ``context_data`` is a copy made for each read.
        return IdempotentCreates(self.store, worker_ctx.data)
