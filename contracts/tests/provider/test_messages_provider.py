"""The messages service satisfies the gateway's pact: its RPC methods, and the
``message_created`` event it dispatches (caught on the real broker)."""

from pathlib import Path

import pytest
from checkout import pact_files, pact_id, service_command
from provider_states import message_states

from contract_testing.pact.provider import RpcRelay, capture_event
from contracts.messages import v1
from service_testing.launcher import running


@pytest.fixture(scope="module")
def messages(service_env):
    with running([service_command("messages")], service_env):
        yield


@pytest.fixture(scope="module")
def relay(module_amqp_uri):
    def message_created(proxy):
        return capture_event(
            module_amqp_uri, v1.MESSAGE_CREATED_EVENT, lambda: proxy.messages.save_message("hello")
        )

    events = {"a message_created event": message_created}
    with RpcRelay({"AMQP_URI": module_amqp_uri}, events) as relay:
        yield relay


@pytest.mark.parametrize("pact_file", pact_files("messages"), ids=pact_id)
def test_messages_honours_the_pact(
    pact_file: Path, messages, verify, redis_client, module_key_prefix
):
    verify("messages", pact_file, message_states(redis_client, module_key_prefix))
