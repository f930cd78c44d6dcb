"""The committed JSON Schemas are what the pydantic models export today."""

from contract_testing.schema import DEFAULT_SCHEMA_DIR, documents, stale_files


def test_committed_json_schemas_are_up_to_date():
    assert stale_files(DEFAULT_SCHEMA_DIR) == [], "run: python -m contract_testing.schema"


def test_every_contract_has_a_schema_file():
    assert sorted(p.name for p in DEFAULT_SCHEMA_DIR.glob("*.json")) == sorted(documents())
