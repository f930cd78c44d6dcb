# Patch before anything imports socket or threading: nameko's containers and the
# test's RPC clients all run on eventlet (unpatched, the container tests hang).
import eventlet

eventlet.monkey_patch()


from contextlib import ExitStack  # noqa: E402 - after the monkey-patch on purpose

import pytest  # noqa: E402

from airports.service import AirportsService  # noqa: E402
from gateway.service import GatewayService  # noqa: E402
from messages.service import MessagesService  # noqa: E402
from service_testing.edge import running_edge  # noqa: E402
from trips.service import TripsService  # noqa: E402


@pytest.fixture
def gateway_config(service_config, web_config):
    return {**service_config, **web_config}


@pytest.fixture
def start(container_factory, gateway_config):
    """Start the given service classes in this test's vhost and Redis prefix."""

    def start_services(*service_classes, **config_overrides):
        for service_class in service_classes:
            container_factory(service_class, {**gateway_config, **config_overrides}).start()

    return start_services


@pytest.fixture
def api(start, http_session):
    """The gateway over real HTTP, with the real airports, trips and messages services."""
    start(AirportsService, TripsService, MessagesService, GatewayService)
    return http_session


@pytest.fixture
def edge(tmp_path, web_config_port):
    """``edge(**settings)``: the real edge (HAProxy, deploy/edge/haproxy.cfg) in front of
    this test's gateway, with ``settings`` (EDGE_*) in its environment; stopped after."""
    with ExitStack() as started:

        def start_edge(**settings):
            gateway = f"127.0.0.1:{web_config_port}"
            return started.enter_context(running_edge(gateway, tmp_path, **settings))

        yield start_edge
