"""Export every contract as JSON Schema into ``contracts/schemas/``.

    python -m contract_testing.schema            # (re)write the files
    python -m contract_testing.schema --check    # exit 1 when a committed file is stale

One file per RPC method version (``<service>.<method>.v<N>.json``) and per event
version (``<source>.<event>.v<N>.json``), generated from the same pydantic models
the services validate with, so a reader (or another language) never has to read
Python to know the wire format.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from contract_testing.catalog import EVENTS, RPC_METHODS
from contracts.errors import ServiceError
from contracts.interface import Event, RpcMethod
from service_testing.services import REPO_ROOT

DEFAULT_SCHEMA_DIR = REPO_ROOT / "contracts" / "schemas"


def rpc_document(method: RpcMethod) -> dict[str, Any]:
    return {
        "kind": "rpc",
        "service": method.service,
        "method": method.name,
        "version": method.version,
        "since": method.since,
        "args": method.args.model_json_schema(),
        "result": TypeAdapter(method.result).json_schema(),
        "errors": [error_document(error) for error in method.errors],
    }


def event_document(event: Event) -> dict[str, Any]:
    return {
        "kind": "event",
        "source": event.source,
        "event": event.name,
        "version": event.version,
        "since": event.since,
        "payload": event.payload.model_json_schema(),
    }


def error_document(error: type[ServiceError]) -> dict[str, Any]:
    """How nameko carries ``error`` in a reply: ``exc_path`` picks the class, ``exc_args``
    are ``(message, field)`` (see ``contracts.errors``)."""
    return {
        "code": error.code,
        "exc_type": error.__name__,
        "exc_path": f"{error.__module__}.{error.__name__}",
        "exc_args": {
            "type": "array",
            "prefixItems": [{"type": "string"}, {"type": ["string", "null"]}],
            "minItems": 2,
            "maxItems": 2,
        },
    }


def documents() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema document, for every contract in the catalog."""
    docs = {f"{m.service}.{m.name}.v{m.version}.json": rpc_document(m) for m in RPC_METHODS}
    docs.update({f"{e.source}.{e.name}.v{e.version}.json": event_document(e) for e in EVENTS})
    return docs


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def write(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    wanted = documents()
    for stale in set(p.name for p in directory.glob("*.json")) - set(wanted):
        (directory / stale).unlink()
    for name, document in wanted.items():
        (directory / name).write_text(render(document))


def stale_files(directory: Path) -> list[str]:
    """Names of files that are missing, extra or different from what ``write`` produces."""
    wanted = {name: render(document) for name, document in documents().items()}
    present = {p.name: p.read_text() for p in directory.glob("*.json")}
    return sorted(
        name for name in set(wanted) | set(present) if wanted.get(name) != present.get(name)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_SCHEMA_DIR)
    parser.add_argument("--check", action="store_true", help="fail on stale files, write nothing")
    options = parser.parse_args(argv)
    if not options.check:
        write(options.dir)
        return 0
    stale = stale_files(options.dir)
    for name in stale:
        print(f"stale schema: {options.dir / name} (run: python -m contract_testing.schema)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
