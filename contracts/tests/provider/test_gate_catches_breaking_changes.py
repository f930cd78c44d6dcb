"""The gate works: a breaking change to a provider fails verification, an additive
one passes.

Each case copies the airports package into a temp dir, edits its service code
there, runs that copy (first on PYTHONPATH, so it shadows the installed one) as a
``nameko run`` process and verifies today's committed pacts for airports against
it with the same ``Verifier`` set-up the gate uses.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from checkout import REPO_ROOT, committed_pacts, service_command
from provider_states import airport_states

from service_testing.launcher import running

SERVICE_FILE = Path("airports") / "service.py"
GET_RESULT = "        return self.store.found(args.id).model_dump()\n"
CREATE = "self.store.create(self.idempotency_key, name=args.name).record.id"
CREATE_RESULT = f"        return {CREATE}\n"

BREAKING = {
    "a result field renamed": (
        GET_RESULT,
        "        airport = self.store.found(args.id)\n"
        '        return {"id": airport.id, "title": airport.name}\n',
        "$.result",
    ),
    "a result type changed": (
        CREATE_RESULT,
        f'        return {{"id": {CREATE}}}\n',
        "$.result",
    ),
    "an error dropped": (
        GET_RESULT,
        "        airport = self.store.get(args.id)\n"
        "        return None if airport is None else airport.model_dump()\n",
        "$.error",
    ),
}
ADDITIVE = (
    GET_RESULT,
    '        return {**self.store.found(args.id).model_dump(), "timezone": "UTC"}\n',
)


@pytest.fixture
def run_edited_airports(tmp_path, service_env):
    """Start a copy of airports whose service.py has ``original`` replaced by ``edited``."""

    def run(original: str, edited: str):
        shutil.copytree(
            REPO_ROOT / "services" / "airports" / "src" / "airports", tmp_path / "airports"
        )
        service_file = tmp_path / SERVICE_FILE
        source = service_file.read_text()
        assert original in source, "the demo's edit no longer applies to airports/service.py"
        service_file.write_text(source.replace(original, edited))
        command = replace(
            service_command("airports"), cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)}
        )
        return running([command], service_env)

    return run


def verify_airports_pacts(verify, redis_client, module_key_prefix) -> None:
    for pact_file in committed_pacts("*-airports.json"):
        verify("airports", pact_file, airport_states(redis_client, module_key_prefix))


@pytest.mark.parametrize(("original", "edited", "mismatch"), BREAKING.values(), ids=BREAKING)
def test_breaking_provider_change_fails_verification(
    original, edited, mismatch, run_edited_airports, verify, redis_client, module_key_prefix
):
    with run_edited_airports(original, edited), pytest.raises(AssertionError) as failed:
        verify_airports_pacts(verify, redis_client, module_key_prefix)

    assert mismatch in str(failed.value)


def test_additive_provider_change_passes_verification(
    run_edited_airports, verify, redis_client, module_key_prefix
):
    with run_edited_airports(*ADDITIVE):
        verify_airports_pacts(verify, redis_client, module_key_prefix)
