"""tools/credentials.py: what it generates, and that its permissions admit the names
nameko uses and nothing of another service's (the broker and Redis enforce them for real
in integration_tests/test_compose_stack.py)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from service_testing.services import REPO_ROOT

_spec = importlib.util.spec_from_file_location(
    "credentials", REPO_ROOT / "tools" / "credentials.py"
)
credentials = sys.modules["credentials"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(credentials)  # (its dataclass looks itself up in sys.modules)

REPLY = "rpc.reply-gateway-0b0e5f4e-7c55-4b8b-9a39-1c0b5f1c2d3e"
UUID = "0b0e5f4e-7c55-4b8b-9a39-1c0b5f1c2d3e"


def matches(pattern: str, name: str) -> bool:
    return re.fullmatch(pattern, name) is not None


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return credentials.generate(tmp_path_factory.mktemp("run") / "secrets")


def test_a_second_run_keeps_every_file(generated):
    before = {path.name: path.read_text() for path in generated.iterdir()}
    credentials.generate(generated)
    assert {path.name: path.read_text() for path in generated.iterdir()} == before
    assert generated.stat().st_mode & 0o777 == 0o700
    assert {path.stat().st_mode & 0o777 for path in generated.iterdir()} == {0o644}


def test_redis_acl_files_hold_hashes_and_the_service_user_has_no_dangerous_commands(generated):
    password = (generated / "trips-redis-password").read_text()
    lines = (generated / "redis-trips.acl").read_text().splitlines()
    assert lines[0] == "user default off ~* &* +@all"  # nobody starts logged in
    assert lines[1] == "user probe on nopass resetchannels -@all +ping"
    digest = hashlib.sha256(password.encode()).hexdigest()
    assert lines[2] == f"user trips on #{digest} ~* resetchannels +@all -@dangerous +info"
    assert password not in "\n".join(lines)


def test_generating_at_once_agrees_on_every_password(tmp_path):
    """Two test workers start stacks at once: each ACL hashes the password its service
    reads. Threads (each file operation lets another run) over rounds of fresh directories."""
    directories = [tmp_path / f"round-{number}" for number in range(20)]
    for directory in directories:
        start = threading.Barrier(8)

        def generate(directory=directory, start=start) -> None:
            start.wait(timeout=30)
            credentials.generate(directory)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: generate(), range(8)))

    for directory in directories:
        for service in credentials.ACCESS:
            password = (directory / f"{service}-redis-password").read_text()
            assert len(password) == 48, (directory.name, service)
            digest = hashlib.sha256(password.encode()).hexdigest()
            acl = (directory / f"redis-{service}.acl").read_text()
            assert f"user {service} on #{digest} " in acl, (directory.name, service)
        assert [path.name for path in directory.iterdir() if path.name.startswith("tmp")] == []


def test_rabbitmq_users_have_verifiable_hashes_and_no_tags_but_the_admin(generated):
    definitions = json.loads((generated / "rabbitmq-definitions.json").read_text())
    users = {user["name"]: user for user in definitions["users"]}
    assert users["admin"]["tags"] == ["administrator"]
    assert all(users[name]["tags"] == [] for name in credentials.ACCESS)
    stored = base64.b64decode(users["airports"]["password_hash"])
    password = (generated / "airports-amqp-password").read_text()
    assert hashlib.sha256(stored[:4] + password.encode()).digest() == stored[4:]


def test_permissions_admit_what_the_service_uses_and_nothing_of_another():
    gateway = credentials.amqp_permissions("gateway", credentials.ACCESS["gateway"])
    airports = credentials.amqp_permissions("airports", credentials.ACCESS["airports"])
    broadcast = f"evt-messages-message_created--gateway.on_message_created-{UUID}"
    for name in ("nameko-rpc", REPLY, broadcast, "rpc.reply-standalone_rpc_proxy-x"):
        assert all(matches(gateway[kind], name) for kind in ("configure", "write", "read")), name
    assert matches(gateway["read"], "messages.events")
    assert not matches(gateway["write"], "messages.events")  # it handles them, never sends
    for other in ("rpc-airports", "rpc.reply-airports-x", "evt-x-y--airports.z", "airports.events"):
        assert not any(matches(gateway[kind], other) for kind in gateway), other
    assert matches(airports["read"], "rpc-airports")
    assert not matches(airports["read"], "rpc-trips")


def test_topic_permissions_let_no_service_bind_to_anothers_calls():
    trips = credentials.amqp_topic_permissions("trips", credentials.ACCESS["trips"])
    assert matches(trips["write"], "airports.get")  # trips calls airports
    assert matches(trips["write"], "trips.ping")  # its health probe
    assert matches(trips["write"], UUID)  # replies
    assert not matches(trips["write"], "messages.get_all_messages")
    assert matches(trips["read"], "trips.*")
    assert matches(trips["read"], UUID)
    assert not any(
        matches(trips["read"], key) for key in ("airports.*", "#", "*.*", "airports.get")
    )
