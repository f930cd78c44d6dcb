"""The classic Nameko tutorial's travel app, for the benchmark only (never shipped).

A bare ``@http`` gateway whose routes call ``RpcProxy("airports")``, and a bare
airports service storing plain strings with nameko-redis: no validation, no typed
errors, no timeouts, no request ids, no per-call log line, nameko's default
settings. ``bench.py`` runs it beside our stack in its own vhost, under its own
Redis key prefix and on its own port, and divides every figure by its figure.

    nameko run --config benchmarks/baseline/config.yaml tutorial:AirportsService
    nameko run --config benchmarks/baseline/config.yaml tutorial:GatewayService
"""

from __future__ import annotations

import json
import os
import uuid

from nameko.rpc import RpcProxy, rpc
from nameko.web.handlers import http
from nameko_redis import Redis

# The tutorial keys airports by bare id; the prefix only keeps the bench's keys apart.
KEY_PREFIX = os.environ.get("BASELINE_KEY_PREFIX", "")


def airport_key(airport_id: str) -> str:
    return KEY_PREFIX + airport_id


class AirportsService:
    name = "airports"

    redis = Redis("development")

    @rpc
    def get(self, airport_id: str) -> str | None:
        return self.redis.get(airport_key(airport_id))

    @rpc
    def create(self, airport: str) -> str:
        airport_id = uuid.uuid4().hex
        self.redis.set(airport_key(airport_id), airport)
        return airport_id

    @rpc
    def ping(self) -> str:
        return "pong"


class GatewayService:
    name = "gateway"

    airports_rpc = RpcProxy("airports")

    @http("GET", "/health")
    def health(self, request: object) -> str:
        return json.dumps({"status": "ok"})

    @http("GET", "/airport/<string:airport_id>")
    def get_airport(self, request: object, airport_id: str) -> str:
        airport = self.airports_rpc.get(airport_id)
        return json.dumps({"id": airport_id, "airport": airport})

    @http("POST", "/airport")
    def post_airport(self, request: object) -> tuple[int, str]:
        data = json.loads(request.get_data(as_text=True))
        airport_id = self.airports_rpc.create(data["airport"])
        return 201, airport_id
