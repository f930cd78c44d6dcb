"""The airports service satisfies every consumer's pact, current and released."""

from pathlib import Path

import pytest
from checkout import pact_files, pact_id, service_command
from provider_states import airport_states

from service_testing.launcher import running


@pytest.fixture(scope="module")
def airports(service_env):
    with running([service_command("airports")], service_env):
        yield


@pytest.mark.parametrize("pact_file", pact_files("airports"), ids=pact_id)
def test_airports_honours_the_pact(
    pact_file: Path, airports, verify, redis_client, module_key_prefix
):
    verify("airports", pact_file, airport_states(redis_client, module_key_prefix))
