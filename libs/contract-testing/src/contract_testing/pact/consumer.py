"""Run a consumer's real RPC client code against the pact instead of a provider.

``rpc_stub(pact, "airports", "a request for an unknown airport")`` is a drop-in
for nameko's service proxy: the consumer's code calls ``stub.get(...)`` (or
``call_async``) exactly as in production; the stub checks that the call matches
the pact's request, then feeds the pact's response to nameko's own ``RpcReply``,
so the result (or the re-raised typed error) is what the real client would see.
Both halves are also checked against the method's versioned schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nameko.exceptions import MethodNotFound, deserialize, serialize
from nameko.rpc import RpcReply
from pact import Pact
from pydantic import TypeAdapter

from contract_testing.catalog import RPC_METHODS
from contract_testing.pact.wire import ROUTING_KEY, decode, request_body, routing_key
from contracts.errors import InvalidArgument
from contracts.interface import RpcMethod
from contracts.validation import validate

METHODS_BY_ROUTING_KEY: dict[str, RpcMethod] = {routing_key(m): m for m in RPC_METHODS}


class CannedReply:
    """What ``RpcReply`` waits on: here the reply body is already known."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def wait(self) -> dict[str, Any]:
        return self.body


class PactRpcStub:
    """Answers calls to ``service`` from one Sync interaction of ``pact``."""

    def __init__(self, pact: Pact, service: str, description: str) -> None:
        self.service_name = service
        self.description = description
        self.calls = 0
        self.routing_key, self.request, self.reply = sync_message(pact, description)
        self.method = METHODS_BY_ROUTING_KEY[self.routing_key]
        check_against_schema(self.method, self.request, self.reply)

    def __getattr__(self, method_name: str) -> StubMethod:
        return StubMethod(self, method_name)

    def answer(self, method_name: str, body: dict[str, Any]) -> RpcReply:
        call = f"{self.service_name}.{method_name}({body})"
        expected = f"{self.routing_key}({self.request})"
        if call != expected:
            raise AssertionError(
                f"{self.description!r}: consumer called {call}, pact says {expected}"
            )
        self.calls += 1
        return RpcReply(CannedReply(self.reply))


class StubMethod:
    """``proxy.<method>``: callable, or ``call_async`` like nameko's ``MethodProxy``."""

    def __init__(self, stub: PactRpcStub, name: str) -> None:
        self.stub = stub
        self.name = name

    def call_async(self, *args: Any, **kwargs: Any) -> RpcReply:
        return self.stub.answer(self.name, request_body(*args, **kwargs))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.call_async(*args, **kwargs).result()


class ReleaseWithout:
    """``stub`` as served by a provider release that predates ``method_name``: that
    call gets nameko's ``MethodNotFound`` reply, as from an old instance on the
    same queue during a rolling deploy; every other call goes to ``stub``."""

    def __init__(self, stub: PactRpcStub, method_name: str) -> None:
        self.stub = stub
        self.service_name = stub.service_name
        self.missing = method_name
        self.missing_calls = 0

    def __getattr__(self, method_name: str) -> Any:
        if method_name != self.missing:
            return getattr(self.stub, method_name)
        return MissingMethod(self, f"{self.service_name}.{method_name}")


class MissingMethod:
    def __init__(self, release: ReleaseWithout, routing_key: str) -> None:
        self.release = release
        self.routing_key = routing_key

    def call_async(self, *args: Any, **kwargs: Any) -> RpcReply:
        self.release.missing_calls += 1
        error = serialize(MethodNotFound(self.routing_key))
        return RpcReply(CannedReply({"result": None, "error": error}))


@contextmanager
def rpc_stub(pact: Pact, service: str, description: str) -> Iterator[PactRpcStub]:
    """A stub for ``service`` answering from the interaction ``description``; the
    consumer code run inside the block must make that call exactly once."""
    stub = PactRpcStub(pact, service, description)
    yield stub
    if stub.calls != 1:
        raise AssertionError(f"{description!r} was called {stub.calls} times, not once")


def sync_message(pact: Pact, description: str) -> tuple[str, Any, Any]:
    """(routing key, request body, reply body) of the Sync interaction ``description``.

    Read inside the loop: the FFI frees an interaction with its iterator."""
    for message in pact.interactions("Sync"):
        if message.description == description:
            request = message.request_contents
            [response] = list(message.response_contents)
            routing_key = metadata(request.metadata)[ROUTING_KEY]
            return routing_key, decode(request.contents), decode(response.contents)
    raise LookupError(f"no Sync interaction {description!r} in {pact}")


def metadata(pairs: Iterator[Any]) -> dict[str, Any]:
    """Message metadata as a dict (pact's FFI gives JSON-encoded values)."""
    values: dict[str, Any] = {}
    for pair in pairs:
        try:
            values[pair.key] = json.loads(pair.value)
        except json.JSONDecodeError:
            values[pair.key] = pair.value
    return values


def check_against_schema(method: RpcMethod, request: dict[str, Any], reply: dict[str, Any]) -> None:
    """A pact must not promise what the versioned contract does not allow: valid
    arguments (unless the reply is ``InvalidArgument``), a declared error or a
    result of the declared type."""
    error = deserialize(reply["error"]) if reply.get("error") else None
    names = list(method.args.model_fields)
    try:
        validate(
            method.args, {**dict(zip(names, request["args"], strict=False)), **request["kwargs"]}
        )
    except InvalidArgument:
        if not isinstance(error, InvalidArgument):
            raise
    if error is None:
        TypeAdapter(method.result).validate_python(reply["result"], strict=True)
    elif not isinstance(error, method.errors):
        raise TypeError(f"{routing_key(method)} does not declare {type(error).__name__}")


def write_pact(pact: Pact, directory: Path, consumer_version: str) -> None:
    """Write ``pact`` with what it documents about versions: the consumer's package
    version and the oldest provider version serving every method it calls."""
    used = {
        METHODS_BY_ROUTING_KEY[metadata(message.request_contents.metadata)[ROUTING_KEY]]
        for message in pact.interactions("Sync")
    }
    pact.with_metadata(
        "versions",
        {
            "consumer": consumer_version,
            "minimumProvider": max((m.since for m in used), key=parse_version, default="1.0.0"),
            "methods": ", ".join(sorted(f"{routing_key(m)} v{m.version}" for m in used)),
        },
    )
    pact.write_file(directory, overwrite=True)


def parse_version(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
