"""RPC_QUEUE_TYPE=quorum: the services' RPC request queues are quorum queues (replicated
by a RabbitMQ cluster), the gateway's reply queue stays nameko's classic expiring queue,
and calls work through them; an AMQP_URI naming every node (kombu's failover list)
moves on from a node that is gone (issue 24 item 1)."""

from urllib.parse import urlsplit

import pytest

from airports.service import AirportsService
from gateway.service import GatewayService
from service_testing.ports import free_port
from service_testing.waiting import wait_until


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
    # Exclusive: never redeclared as a ghost of the lost node's (connection_queues).
    assert (reply_queue["exclusive"], feed_queue["exclusive"]) == (True, True)

    # Replies are consumed without acknowledgements (connection_queues); the management
    # API lists a queue's consumers once its statistics next come in (every few seconds).
    def reply_consumers() -> list[dict]:
        queue = rabbit_manager.get_queue(rabbit_config["vhost"], reply_queue["name"])
        return queue.get("consumer_details", [])

    wait_until(lambda: bool(reply_consumers()), 30, "the reply queue's consumer to be listed")
    assert [c["ack_required"] for c in reply_consumers()] == [False]


def test_a_failover_list_whose_first_node_is_gone_still_serves(start, http_session, rabbit_config):
    # kombu's failover list, as the HA stack names its nodes: nothing listens on the first.
    reachable = rabbit_config["AMQP_URI"]
    gone = reachable.replace(f":{urlsplit(reachable).port}/", f":{free_port()}/")
    start(AirportsService, GatewayService, AMQP_URI=f"{gone};{reachable}")

    created = http_session.post("/airport", json={"airport": "Oslo"})

    assert created.status_code == 201
    assert http_session.get(created.headers["Location"]).status_code == 200
