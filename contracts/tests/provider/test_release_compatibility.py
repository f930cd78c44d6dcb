"""Which consumer version needs which provider version, checked against the real
airports 1.0.0 (rebuilt from its release commit).

The pacts' ``metadata.versions.minimumProvider`` says gateway 1.1.0 needs airports
1.1.0 for ``create_v2``; this shows it: airports 1.0.0 honours every released pact
and trips' current one, and fails the current gateway pact on ``create_v2`` only
(the gateway then falls back to v1, see test_side_by_side.py).
"""

import pytest
from checkout import PACT_DIR, release_command
from provider_states import airport_states

from service_testing.launcher import running

V2_INTERACTION = "a request to create an airport, answered with the record"


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
