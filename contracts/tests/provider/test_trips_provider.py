"""The trips service (with its real airports dependency) satisfies every consumer's pact."""

from pathlib import Path

import pytest
from checkout import pact_files, pact_id, service_command
from provider_states import trip_states

from service_testing.launcher import running


@pytest.fixture(scope="module")
def trips(service_env):
    with running([service_command("airports"), service_command("trips")], service_env):
        yield


@pytest.mark.parametrize("pact_file", pact_files("trips"), ids=pact_id)
def test_trips_honours_the_pact(pact_file: Path, trips, verify, redis_client, module_key_prefix):
    verify("trips", pact_file, trip_states(redis_client, module_key_prefix))
