"""``/ready`` pings exactly the RPC dependencies the service class declares (worker_factory)."""

import json
from unittest.mock import Mock

from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.routes.ops import rpc_dependencies
from gateway.service import GatewayService
from service_runtime.rpc import TimedRpcProxy


class GatewayWithWeather(GatewayService):
    """A gateway that has started calling one more service."""

    weather = TimedRpcProxy("weather")


def proxy(answers: bool) -> Mock:
    stub = Mock()
    if not answers:
        stub.with_timeout.return_value.ping.side_effect = TimeoutError
    return stub


def ready(service_class, **proxies):
    worker = worker_factory(service_class, config={}, **proxies)
    response = worker.ready(Request(EnvironBuilder(path="/ready").get_environ()))
    return response.status_code, json.loads(response.get_data())


def test_the_gateway_depends_on_the_three_services_it_declares():
    assert rpc_dependencies(GatewayService) == ("airports", "trips", "messages")


def test_ready_pings_every_declared_dependency():
    status, body = ready(
        GatewayService, airports=proxy(True), trips=proxy(True), messages=proxy(True)
    )

    assert (status, body["services"]) == (200, ["airports", "trips", "messages"])


def test_a_newly_declared_dependency_is_pinged_without_another_list():
    answering = {name: proxy(True) for name in ("airports", "trips", "messages")}

    status, body = ready(GatewayWithWeather, **answering, weather=proxy(False))

    assert (status, body["missing"]) == (503, ["weather"])
