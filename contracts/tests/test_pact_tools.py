"""The pact tooling can fail: wrong calls, unused interactions, promises the versioned
contract does not allow, and stale pact files are all caught."""

import json

import pytest
from pact import Pact

from contract_testing.pact.consumer import PactRpcStub, rpc_stub
from contract_testing.pact.freshness import stale_pacts
from contract_testing.pact.wire import raises, returns, rpc_request
from contracts.airports import v1
from contracts.errors import NotFound, SameAirport


@pytest.fixture
def pact():
    return Pact("tool-test", "airports").with_specification("V4")


def test_a_call_the_pact_does_not_describe_fails(pact):
    returns(
        rpc_request(pact.upon_receiving("get a1", "Sync"), v1.GET, "a1"), {"id": "a1", "name": "L"}
    )

    with pytest.raises(AssertionError) as wrong, rpc_stub(pact, "airports", "get a1") as airports:
        airports.get("a2")

    assert "pact says airports.get" in str(wrong.value)


def test_an_interaction_the_consumer_never_calls_fails(pact):
    returns(
        rpc_request(pact.upon_receiving("get a1", "Sync"), v1.GET, "a1"), {"id": "a1", "name": "L"}
    )

    with (
        pytest.raises(AssertionError, match="called 0 times"),
        rpc_stub(pact, "airports", "get a1"),
    ):
        pass


def test_a_reply_with_an_undeclared_error_is_refused(pact):
    raises(rpc_request(pact.upon_receiving("get a1", "Sync"), v1.GET, "a1"), SameAirport, "id")

    with pytest.raises(TypeError, match="does not declare SameAirport"):
        PactRpcStub(pact, "airports", "get a1")


def test_a_result_of_the_wrong_type_is_refused(pact):
    returns(rpc_request(pact.upon_receiving("get a1", "Sync"), v1.GET, "a1"), ["a1", "L"])

    with pytest.raises(ValueError, match="Airport"):
        PactRpcStub(pact, "airports", "get a1")


def write(directory, name, pact):
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(json.dumps(pact))


def test_pacts_differing_only_in_the_pact_library_version_are_fresh(tmp_path):
    pact = {"interactions": [1], "metadata": {"pactRust": {"ffi": "0.5.12"}}}
    write(tmp_path / "new", "a-b.json", pact)
    write(tmp_path / "old", "a-b.json", {**pact, "metadata": {"pactRust": {"ffi": "0.4.0"}}})

    assert stale_pacts(tmp_path / "new", tmp_path / "old") == []


def test_changed_missing_or_extra_pacts_are_stale(tmp_path):
    write(tmp_path / "new", "a-b.json", {"interactions": [2]})
    write(tmp_path / "new", "a-c.json", {"interactions": []})
    write(tmp_path / "old", "a-b.json", {"interactions": [1]})
    write(tmp_path / "old", "a-d.json", {"interactions": []})

    assert stale_pacts(tmp_path / "new", tmp_path / "old") == ["a-b.json", "a-c.json", "a-d.json"]


def test_not_found_is_declared_by_get(pact):
    raises(
        rpc_request(pact.upon_receiving("get nowhere", "Sync"), v1.GET, "nowhere"), NotFound, "id"
    )

    with rpc_stub(pact, "airports", "get nowhere") as airports, pytest.raises(NotFound):
        airports.get("nowhere")
