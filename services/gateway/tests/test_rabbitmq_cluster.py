"""RPC_QUEUE_TYPE=quorum: the services' RPC request queues are quorum queues (replicated
by a RabbitMQ cluster), the gateway's reply queue stays nameko's classic expiring queue,
and calls work through them; an AMQP_URI naming every node (kombu's failover list)
moves on from a node that is gone (issue 24 item 1); a gateway under steady traffic keeps
its broker connection, and a reconnected one takes queues of new names."""

import time
from collections import Counter
from urllib.parse import urlsplit

import pytest
from kombu.message import Message

from airports.service import AirportsService
from gateway.service import GatewayService
from service_testing.ports import free_port
from service_testing.waiting import wait_until

# Answered 404 by airports: a round trip through the reply queue every time, never cached.
UNKNOWN_AIRPORT = f"/airport/{'0' * 32}"


@pytest.mark.parametrize("queue_type", ["classic", "quorum"])
def test_rpc_request_queues_are_of_the_configured_type(
    start, http_session, rabbit_manager, rabbit_config, queue_type
):
    start(AirportsService, GatewayService, RPC_QUEUE_TYPE=queue_type)

    created = http_session.post("/airport", json={"airport": "Oslo"})
    assert created.status_code == 201
    assert http_session.get(created.headers["Location"]).status_code == 200

    queues = {q["name"]: q for q in rabbit_manager.get_queues(rabbit_config["vhost"])}
    assert queues["rpc-airports"]["type"] == queue_type
    [reply_queue] = [q for name, q in queues.items() if name.startswith("rpc.reply-")]
    assert reply_queue["type"] == "classic"
    assert reply_queue["arguments"]["x-expires"]
    # The queues of one connection go with a lost node (service_runtime.connection_queues).
    [feed_queue] = [q for name, q in queues.items() if name.startswith("evt-messages-")]
    assert (reply_queue["durable"], feed_queue["durable"]) == (False, False)
    # Exclusive: held by their own connection alone (service_runtime.connection_queues).
    assert (reply_queue["exclusive"], feed_queue["exclusive"]) == (True, True)


def test_a_steady_stream_of_replies_keeps_the_gateways_broker_connection(
    start, http_session, caplog
):
    # Heartbeats every second: the broker closes a connection it hears nothing from for two.
    # kombu sends them only after a second without a message, so under steady replies the
    # reply queue's acks are what keeps the connection open (service_runtime.connection_queues).
    start(AirportsService, GatewayService, HEARTBEAT=1)
    answers: Counter[int] = Counter()
    deadline = time.monotonic() + 5  # five heartbeat timeouts
    for _ in range(10_000):
        answers[http_session.get(UNKNOWN_AIRPORT).status_code] += 1
        if time.monotonic() > deadline:
            break

    lost = [r.getMessage() for r in caplog.records if "broker lost" in r.getMessage()]
    assert (set(answers), lost) == ({404}, [])


def test_a_reconnected_gateway_takes_new_reply_and_feed_queues(
    start, http_session, rabbit_manager, rabbit_config
):
    # A queue declared again under its old name can lose its binding to the clean-up of a
    # lost node (service_runtime.connection_queues): every connection gets new names.
    start(AirportsService, GatewayService, RPC_TIMEOUT_SECONDS=2)
    vhost = rabbit_config["vhost"]
    assert http_session.get(UNKNOWN_AIRPORT).status_code == 404

    def connection_queues() -> set[str]:
        names = {q["name"] for q in rabbit_manager.get_queues(vhost)}
        return {n for n in names if n.startswith(("rpc.reply-gateway-", "evt-messages-"))}

    before = connection_queues()

    def connections() -> list[str]:  # listed once the broker's statistics come in
        return [c["name"] for c in rabbit_manager.get_connections() if c["vhost"] == vhost]

    wait_until(lambda: bool(connections()), 30, "the services' connections to be listed")
    for name in connections():
        rabbit_manager.delete_connection(name)
    wait_until(lambda: len(connection_queues() - before) == 2, 30, "new reply and feed queues")

    answer = http_session.get(UNKNOWN_AIRPORT)
    assert (connection_queues() & before, answer.status_code) == (set(), 404)


def test_a_failover_list_whose_first_node_is_gone_still_serves(start, http_session, rabbit_config):
    # kombu's failover list, as the HA stack names its nodes: nothing listens on the first.
    reachable = rabbit_config["AMQP_URI"]
    gone = reachable.replace(f":{urlsplit(reachable).port}/", f":{free_port()}/")
    start(AirportsService, GatewayService, AMQP_URI=f"{gone};{reachable}")

    created = http_session.post("/airport", json={"airport": "Oslo"})

    assert created.status_code == 201
    assert http_session.get(created.headers["Location"]).status_code == 200


def test_a_reply_whose_ack_meets_a_reset_socket_leaves_the_gateway_serving(
    start, http_session, monkeypatch
):
    # A broker that stops resets the socket; a reply's ack that met it raised out of the
    # reply listener's thread and killed the gateway (service_runtime.connection_queues).
    start(AirportsService, GatewayService)
    reset: list[str] = []
    ack = Message.ack

    def ack_or_reset_a_reply(message, multiple=False):
        if "reply_to" not in message.properties and not reset:  # a reply, not a request
            reset.append(message.properties["correlation_id"])
            raise ConnectionResetError(104, "Connection reset by peer")
        return ack(message, multiple)

    monkeypatch.setattr(Message, "ack", ack_or_reset_a_reply)

    answers = [http_session.get(UNKNOWN_AIRPORT).status_code for _ in range(3)]

    assert (len(reset), answers) == (1, [404, 404, 404])
