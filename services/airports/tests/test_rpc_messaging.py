"""How RPC messages travel, against the real broker: requests and replies published transient
through a producer pool found once (``PooledPublisher``), call arguments checked
against a signature computed once (``SignatureCheckedOnce``)."""

import socket
from urllib.parse import urlsplit

import eventlet
import pytest
from kombu import Exchange, Queue
from nameko.amqp.publish import UndeliverableMessage, get_connection
from nameko.constants import NON_PERSISTENT
from nameko.exceptions import IncorrectSignature
from nameko.rpc import get_rpc_exchange
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import dummy, entrypoint_hook

from airports.service import AirportsService
from contracts.errors import NotFound
from service_runtime.publishing import PooledPublisher, producer_pool
from service_runtime.rpc import TimedRpcProxy

EXCHANGE = Exchange("test-publishing", type="topic", durable=False, auto_delete=True)


@pytest.fixture
def queue(rabbit_config):
    """A queue bound to ``EXCHANGE`` for routing key ``to.queue``, declared on the broker."""
    declared = Queue("test-publishing", exchange=EXCHANGE, routing_key="to.queue")
    with get_connection(rabbit_config["AMQP_URI"]) as connection:
        declared(connection.channel()).declare()
    return declared


def received(rabbit_config, queue):
    with get_connection(rabbit_config["AMQP_URI"]) as connection:
        message = queue(connection.channel()).get(no_ack=True)
    return message


def test_a_message_arrives_as_nameko_publishes_it(rabbit_config, queue):
    publisher = PooledPublisher(
        rabbit_config["AMQP_URI"], exchange=EXCHANGE, headers={"from": "construction"}
    )

    publisher.publish(
        {"args": [1]},
        routing_key="to.queue",
        correlation_id="c-1",
        reply_to="back",
        extra_headers={"nameko.request_id": "r-1"},
    )

    message = received(rabbit_config, queue)
    assert message.payload == {"args": [1]}
    assert message.properties["correlation_id"] == "c-1"
    assert message.properties["reply_to"] == "back"
    assert message.headers == {"from": "construction", "nameko.request_id": "r-1"}


def test_a_mandatory_message_nobody_can_receive_is_undeliverable(rabbit_config, queue):
    publisher = PooledPublisher(rabbit_config["AMQP_URI"], exchange=EXCHANGE, use_confirms=True)

    with pytest.raises(UndeliverableMessage):
        publisher.publish({}, routing_key="to.nobody", mandatory=True)


def test_after_the_connection_is_lost_the_next_message_goes_out_on_a_new_one(rabbit_config, queue):
    uri = rabbit_config["AMQP_URI"]
    publisher = PooledPublisher(uri, exchange=EXCHANGE, use_confirms=True)
    publisher.publish({"n": 1}, routing_key="to.queue")
    assert received(rabbit_config, queue).payload == {"n": 1}
    with producer_pool(uri, True, None, None, publisher.transport_options).acquire() as pooled:
        pooled.connection.connection.transport.sock.shutdown(socket.SHUT_RDWR)  # the link goes down

    publisher.publish({"n": 2}, routing_key="to.queue")

    assert received(rabbit_config, queue).payload == {"n": 2}


def test_producers_are_found_once_per_broker_and_options(rabbit_config):
    uri = rabbit_config["AMQP_URI"]

    first = producer_pool(uri, True, None, None, {})
    again = producer_pool(uri, True, None, None, {})
    unconfirmed = producer_pool(uri, False, None, None, {})

    assert first is again
    assert unconfirmed is not first


def test_a_producer_keeps_its_connection_and_channel_between_messages(rabbit_config, queue):
    publisher = PooledPublisher(rabbit_config["AMQP_URI"], exchange=EXCHANGE, use_confirms=True)
    pool = producer_pool(rabbit_config["AMQP_URI"], True, None, None, publisher.transport_options)

    publisher.publish({"n": 1}, routing_key="to.queue")
    with pool.acquire() as producer:
        channel = producer.channel
    publisher.publish({"n": 2}, routing_key="to.queue")

    with pool.acquire() as producer:
        assert producer.channel is channel
        assert channel.is_open


def test_a_producer_whose_publish_failed_is_not_used_again(rabbit_config, queue):
    publisher = PooledPublisher(rabbit_config["AMQP_URI"], exchange=EXCHANGE, use_confirms=True)
    pool = producer_pool(rabbit_config["AMQP_URI"], True, None, None, publisher.transport_options)
    with pytest.raises(UndeliverableMessage):
        publisher.publish({}, routing_key="to.nobody", mandatory=True)

    publisher.publish({"n": 3}, routing_key="to.queue")  # on a fresh producer

    assert received(rabbit_config, queue).payload == {"n": 3}
    assert len(pool.idle) == 1


def test_a_failed_publish_drops_the_idle_producers_on_its_node_too(rabbit_config, queue):
    publisher = PooledPublisher(rabbit_config["AMQP_URI"], exchange=EXCHANGE, use_confirms=True)
    pool = producer_pool(rabbit_config["AMQP_URI"], True, None, None, publisher.transport_options)
    with pool.acquire() as first, pool.acquire() as second:  # two at once: two connections
        first.publish({"n": 1}, exchange=EXCHANGE, routing_key="to.queue")
        second.publish({"n": 2}, exchange=EXCHANGE, routing_key="to.queue")
    assert len(pool.idle) == 2

    with pytest.raises(OSError, match="its node is lost"), pool.acquire():
        raise OSError("its node is lost")

    assert pool.idle == []


def test_after_a_publish_on_a_silent_node_is_cut_off_the_next_one_starts_on_the_next_node(
    rabbit_config, queue
):
    # A cluster's lost node, as publishers meet it: a connection that never answers (a
    # listener that accepts nothing), and a publish cut off by its caller's bound (as
    # service_runtime.rpc bounds every call's) before kombu would move on by itself.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        reachable = rabbit_config["AMQP_URI"]
        lost = reachable.replace(f":{urlsplit(reachable).port}/", f":{silent.getsockname()[1]}/")
        nodes = f"{lost};{reachable}"
        publisher = PooledPublisher(nodes, exchange=EXCHANGE, use_confirms=True)
        pool = producer_pool(nodes, True, None, None, publisher.transport_options)
        pool.connection.connect_timeout = 60  # the silent node holds a publish that long
        with pytest.raises(eventlet.Timeout), eventlet.Timeout(1):
            publisher.publish({"n": 1}, routing_key="to.queue")

        with eventlet.Timeout(30):  # far less than the silent node would hold it
            publisher.publish({"n": 2}, routing_key="to.queue")

    assert received(rabbit_config, queue).payload == {"n": 2}


def test_a_call_with_arguments_that_do_not_fit_is_refused(container_factory, service_config):
    container_factory(AirportsService, service_config).start()

    with ServiceRpcProxy("airports", service_config) as airports:
        with pytest.raises(IncorrectSignature):
            airports.get()  # ``id`` missing
        with pytest.raises(IncorrectSignature):
            airports.get("a", "b")
        with pytest.raises(IncorrectSignature):
            airports.get(id="a", colour="red")
        with pytest.raises(IncorrectSignature):
            airports.get("a", id="a")


class AirportsCaller:
    name = "caller"
    airports = TimedRpcProxy("airports")

    @dummy
    def ask(self, airport_id):
        with pytest.raises(NotFound):
            self.airports.get(airport_id)


def test_a_call_and_its_reply_travel_transient(container_factory, service_config):
    # Every message on the RPC exchange, copied to a queue of the test's own.
    tap = Queue("test-rpc-tap", exchange=get_rpc_exchange(service_config), routing_key="#")
    with get_connection(service_config["AMQP_URI"]) as connection:
        tap(connection.channel()).declare()
    container_factory(AirportsService, service_config).start()
    caller = container_factory(AirportsCaller, service_config)
    caller.start()

    with entrypoint_hook(caller, "ask") as ask:
        ask("no-such-airport")

    with get_connection(service_config["AMQP_URI"]) as connection:
        channel = connection.channel()
        request, reply = tap(channel).get(no_ack=True), tap(channel).get(no_ack=True)
    assert request.delivery_info["routing_key"] == "airports.get"
    assert request.properties["delivery_mode"] == NON_PERSISTENT
    assert reply.properties["correlation_id"] == request.properties["correlation_id"]
    assert reply.properties["delivery_mode"] == NON_PERSISTENT
