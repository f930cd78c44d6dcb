"""Which consumer version needs which provider version, checked against the real
airports 1.0.0 and trips 1.0.0 (rebuilt from their release commit).

The pacts' ``metadata.versions.minimumProvider`` says the current gateway needs
airports 1.1.0 and trips 1.1.0 for their ``create_v2``; this shows it: airports 1.0.0
honours every released pact and trips' current one, and each 1.0.0 fails the current
gateway pact on its ``create_v2`` interactions only (the gateway then falls back to
v1, see test_side_by_side.py and the consumer tests).
"""

import re

import pytest
from checkout import PACT_DIR, release_command
from provider_states import airport_states, trip_states

from service_testing.launcher import running

V2_INTERACTION = "a request to create an airport, answered with the record"
TRIPS_V2_INTERACTIONS = (
    "a request to create a trip between two airports, answered with the trip",
    "a request to create a trip to an unknown airport",
    "a request to create a trip to the same airport",
)


@pytest.fixture(scope="module")
def airports_1_0_0(service_env, release_1_0_0):
    with running([release_command(release_1_0_0, "airports")], service_env):
        yield


@pytest.mark.parametrize(
    "pact_name", ["1.0.0/gateway-airports.json", "1.0.0/trips-airports.json", "trips-airports.json"]
)
def test_airports_1_0_0_honours_pacts_needing_only_v1(
    pact_name, airports_1_0_0, verify, redis_client, module_key_prefix
):
    verify("airports", PACT_DIR / pact_name, airport_states(redis_client, module_key_prefix))


def test_airports_1_0_0_fails_the_gateway_1_1_0_pact_on_create_v2_only(
    airports_1_0_0, verify, redis_client, module_key_prefix
):
    pact_file = PACT_DIR / "gateway-airports.json"
    with pytest.raises(AssertionError) as failed:
        verify("airports", pact_file, airport_states(redis_client, module_key_prefix))

    report = str(failed.value)
    assert f"1) Verifying a pact between gateway and airports - {V2_INTERACTION}" in report
    assert "There were 1 pact failures" in report


@pytest.fixture(scope="module")
def trips_1_0_0(airports_1_0_0, service_env, release_1_0_0):
    with running([release_command(release_1_0_0, "trips")], service_env):
        yield


def test_trips_1_0_0_fails_the_current_gateway_pact_on_create_v2_only(
    trips_1_0_0, verify, redis_client, module_key_prefix
):
    pact_file = PACT_DIR / "gateway-trips.json"
    with pytest.raises(AssertionError) as failed:
        verify("trips", pact_file, trip_states(redis_client, module_key_prefix))

    report = str(failed.value)
    # A failure reads "N) Verifying a pact between gateway and trips [Given ...] - <description>".
    failed_interactions = re.findall(
        r"^\d+\) Verifying a pact between gateway and trips.* - (.*)$", report, re.M
    )
    assert sorted(failed_interactions) == sorted(TRIPS_V2_INTERACTIONS)
    assert f"There were {len(TRIPS_V2_INTERACTIONS)} pact failures" in report
