"""Every credential of the stack, generated: ``python tools/credentials.py [DIRECTORY]``;
with ``--docker-secrets``, also created as the swarm stack's Docker secrets.

Writes into DIRECTORY (default ``.secrets/`` at the repo root, ignored by git) what
compose.yaml mounts as secrets, and what the swarm's ``docker secret create`` and
Kubernetes' ``kubectl create secret`` read (README: Security). A file that exists is kept,
so running it again changes nothing; delete the directory (and the broker's and the
Redis volumes' users with it: ``docker compose down -v``) to start over.

* ``<service>-user``: the service's user name, in RabbitMQ and in its own Redis;
  ``<service>-amqp-password``, ``<service>-redis-password``: its passwords.
* ``redis-<service>.acl``: that Redis's users (Redis ACL file, passwords as SHA-256):
  ``probe`` (no password) may only PING (the health probe), the service's user may
  run every command but the dangerous ones (CONFIG, FLUSHALL, KEYS, DEBUG, SHUTDOWN
  ...; INFO excepted, which its readiness reads), ``admin`` everything. ``default`` is
  off: no connection starts logged in.
* ``redis-admin-password``: the password of each Redis's ``admin`` (operators, backups).
* ``redis-replica-password``, ``redis-sentinel-password``: where a Redis has replicas (the
  swarm stack), the replicas log in to their primary as ``replica`` (replication's
  commands only) and the Sentinels to every Redis as ``sentinel`` (what Sentinel runs).
* ``rabbitmq-erlang-cookie``: the secret a RabbitMQ cluster's nodes share (the swarm stack).
* ``rabbitmq-admin-user``, ``rabbitmq-admin-password``: RabbitMQ's administrator, its
  only user with a management tag; there is no ``guest``.
* ``rabbitmq-definitions.json``: RabbitMQ's users (passwords hashed): the administrator,
  and one user per service with permissions on what it declares, consumes and
  publishes only: its own RPC queue and reply queues, the ``nameko-rpc`` exchange with
  routing keys of the services it calls, the events exchanges it publishes to or
  consumes from. RabbitMQ imports it at start (deploy/rabbitmq/rabbitmq.conf); a node
  that imports definitions creates no default user.

Only the standard library: it runs before anything is installed. Files are written
readable by every user (a container's non-root user reads its bind-mounted secret) in
a directory only its owner can enter.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / ".secrets"
RPC_EXCHANGE = "nameko-rpc"
# What a reply's routing key is: the reply listener's uuid4 (nameko.rpc.ReplyListener).
# (No braces: RabbitMQ expands {name} in topic permissions.)
REPLY_ROUTING_KEY = "[0-9a-f]+(-[0-9a-f]+)+"


@dataclass(frozen=True)
class Access:
    """What one service does on the broker."""

    calls: tuple[str, ...] = ()  # services whose RPC methods it calls
    publishes_events: bool = False  # to its own ``<service>.events``
    consumes_events_of: tuple[str, ...] = ()  # services whose events it handles


# The registry's calls (libs/service-testing: SERVICES; a test keeps them in step) and
# the events each service publishes and handles.
ACCESS = {
    "airports": Access(),
    "trips": Access(calls=("airports",)),
    "messages": Access(publishes_events=True),
    "gateway": Access(calls=("airports", "trips", "messages"), consumes_events_of=("messages",)),
}
# The Redis commands no service runs: ``-@dangerous`` takes CONFIG, FLUSHALL, FLUSHDB,
# KEYS, DEBUG, SHUTDOWN, MONITOR, REPLICAOF, ACL ... away; INFO (in that category too)
# is given back, as every store's ping reads INFO persistence.
SERVICE_REDIS_RULES = "~* resetchannels +@all -@dangerous +info"
# What a Sentinel runs on the Redis it watches (Redis's Sentinel documentation).
SENTINEL_REDIS_RULES = (
    "allchannels -@all +multi +slaveof +ping +exec +subscribe +config|rewrite +role "
    "+publish +info +client|setname +client|kill +script|kill"
)


def alternatives(*patterns: str) -> str:
    return "^(" + "|".join(patterns) + ")$"


def amqp_permissions(service: str, access: Access) -> dict[str, str]:
    """``configure``, ``write`` and ``read`` regexes of ``service`` on vhost ``/``.

    Its own queues: the RPC queue ``rpc-<service>``, reply queues (its own, and the
    health probe's standalone proxy's), its event-handler queues. Exchanges: nameko-rpc
    (declared by everyone, published to for calls and replies, read to bind), its own
    events exchange, and those of the services whose events it handles."""
    own_queues = [
        re.escape(f"rpc-{service}"),
        rf"rpc\.reply-({re.escape(service)}|standalone_rpc_proxy)-.+",
        rf"evt-.+--{re.escape(service)}\..+",
    ]
    own_events = [re.escape(f"{service}.events")] if access.publishes_events else []
    handled = [re.escape(f"{source}.events") for source in access.consumes_events_of]
    rpc = re.escape(RPC_EXCHANGE)
    return {
        "configure": alternatives(rpc, *own_queues, *own_events, *handled),
        "write": alternatives(rpc, *own_queues, *own_events),
        "read": alternatives(rpc, *own_queues, *handled),
    }


def amqp_topic_permissions(service: str, access: Access) -> dict[str, str]:
    """Routing keys on nameko-rpc: publish calls to the services it calls, its own ping
    (the health probe runs with its credentials) and replies; bind its RPC queue
    (``<service>.*``) and reply queues only, so no service can bind a queue of its own
    to another's calls."""
    callees = [rf"{re.escape(callee)}\.[A-Za-z0-9_]+" for callee in access.calls]
    return {
        "exchange": RPC_EXCHANGE,
        "write": alternatives(*callees, rf"{re.escape(service)}\.ping", REPLY_ROUTING_KEY),
        "read": alternatives(rf"{re.escape(service)}\.\*", REPLY_ROUTING_KEY),
    }


def rabbitmq_password_hash(password: str) -> str:
    """RabbitMQ's ``rabbit_password_hashing_sha256``: base64(salt + sha256(salt + password))."""
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def rabbitmq_user(name: str, password: str, tags: list[str]) -> dict:
    return {
        "name": name,
        "password_hash": rabbitmq_password_hash(password),
        "hashing_algorithm": "rabbit_password_hashing_sha256",
        "tags": tags,
    }


def rabbitmq_definitions(passwords: dict[str, str], admin: str, admin_password: str) -> dict:
    """The vhost; the administrator; one user per service (no tags: no management API)
    and its permissions on ``/``."""
    return {
        "vhosts": [{"name": "/"}],
        "users": [
            rabbitmq_user(admin, admin_password, ["administrator"]),
            *(rabbitmq_user(service, passwords[service], []) for service in ACCESS),
        ],
        "permissions": [
            {"user": admin, "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
            *(
                {"user": service, "vhost": "/", **amqp_permissions(service, access)}
                for service, access in ACCESS.items()
            ),
        ],
        "topic_permissions": [
            {"user": service, "vhost": "/", **amqp_topic_permissions(service, access)}
            for service, access in ACCESS.items()
        ],
    }


def redis_acl(
    service: str, password: str, admin_password: str, replica_password: str, sentinel_password: str
) -> str:
    """The ACL file of ``redis-<service>``."""

    def digest(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    # `default` keeps every permission but is off (nobody logs in as it): Redis 7.0 replays
    # its append-only log as `default`, and refuses (drops) every transaction and script in
    # it that `default` may not run (seen: rate-limit buckets gone after a restart).
    return (
        "user default off ~* &* +@all\n"
        "user probe on nopass resetchannels -@all +ping\n"
        f"user {service} on #{digest(password)} {SERVICE_REDIS_RULES}\n"
        f"user admin on #{digest(admin_password)} ~* &* +@all\n"
        f"user replica on #{digest(replica_password)} -@all +psync +replconf +ping\n"
        f"user sentinel on #{digest(sentinel_password)} {SENTINEL_REDIS_RULES}\n"
    )


class Directory:
    """The credentials directory: files created once, then read back."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def password(self, name: str) -> str:
        return self.keep(name, lambda: secrets.token_hex(24))

    def keep(self, name: str, make) -> str:
        """``name``'s contents, written first (from ``make()``) if the file is missing."""
        path = self.path / name
        if not path.exists():
            # Written whole under another name, then linked into place: the first
            # writer wins, and processes generating at once (two test workers) all read
            # back the same file, never an empty one (a Redis ACL once hashed the empty
            # password another process had not yet written).
            with tempfile.NamedTemporaryFile("w", dir=self.path, delete=False) as draft:
                draft.write(make())
            draft_path = Path(draft.name)
            draft_path.chmod(0o644)
            try:
                os.link(draft_path, path)
            except FileExistsError:
                pass
            finally:
                draft_path.unlink()
        return path.read_text()


def generate(directory: Path = DEFAULT_DIRECTORY) -> Path:
    """Write what is missing in ``directory``; return it."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    files = Directory(directory)
    rabbitmq_admin = files.keep("rabbitmq-admin-user", lambda: "admin")
    rabbitmq_admin_password = files.password("rabbitmq-admin-password")
    redis_admin = files.password("redis-admin-password")
    redis_replica = files.password("redis-replica-password")
    redis_sentinel = files.password("redis-sentinel-password")
    files.password("rabbitmq-erlang-cookie")
    amqp_passwords = {}
    for service in ACCESS:
        files.keep(f"{service}-user", lambda service=service: service)
        amqp_passwords[service] = files.password(f"{service}-amqp-password")
        redis_password = files.password(f"{service}-redis-password")
        files.keep(
            f"redis-{service}.acl",
            lambda service=service, redis_password=redis_password: redis_acl(
                service, redis_password, redis_admin, redis_replica, redis_sentinel
            ),
        )
    files.keep(
        "rabbitmq-definitions.json",
        lambda: (
            json.dumps(
                rabbitmq_definitions(amqp_passwords, rabbitmq_admin, rabbitmq_admin_password),
                indent=2,
            )
            + "\n"
        ),
    )
    return directory


def docker_secret_files(directory: Path) -> dict[str, Path]:
    """The Docker secrets deploy/swarm/stack.yaml names: ``travel-`` and the file's name
    (``.`` as ``-``) -> the file."""
    names = [
        *(
            f"{service}-{kind}"
            for service in ACCESS
            for kind in ("user", "amqp-password", "redis-password")
        ),
        *(f"redis-{service}.acl" for service in ACCESS),
        "rabbitmq-definitions.json",
        "rabbitmq-erlang-cookie",
        "redis-replica-password",
        "redis-sentinel-password",
    ]
    return {"travel-" + name.replace(".", "-"): directory / name for name in names}


def create_docker_secrets(directory: Path) -> None:
    for name, path in docker_secret_files(directory).items():
        subprocess.run(
            ["docker", "secret", "create", name, str(path)], check=True, stdout=subprocess.DEVNULL
        )
        print(f"docker secret {name}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIRECTORY)
    parser.add_argument(
        "--docker-secrets", action="store_true", help="create the swarm's secrets too"
    )
    options = parser.parse_args(argv)
    print(f"credentials in {os.path.relpath(generate(options.directory))}")
    if options.docker_secrets:
        create_docker_secrets(options.directory)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
