"""Entrypoint of every service image: ``python container_env.py COMMAND [ARG...]``.

Runs COMMAND with the broker credentials taken from files, the way Docker and
Kubernetes secrets arrive: when ``AMQP_USER_FILE`` and ``AMQP_PASSWORD_FILE`` name
files, their contents become the user and password of ``AMQP_URI`` (which then
names only the broker, e.g. ``pyamqp://rabbitmq:5672/``). Without them the
environment passes through untouched, so ``compose.yaml``'s plain ``AMQP_URI`` works
as before. The health probe (healthcheck.py) builds its environment the same way.

Part of the image recipe, not of a service package: it needs only the standard
library, and images of released versions are built with it too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

USER_FILE = "AMQP_USER_FILE"
PASSWORD_FILE = "AMQP_PASSWORD_FILE"


class ConfigurationError(Exception):
    pass


def read_secret(variable: str, environ: Mapping[str, str]) -> str:
    path = Path(environ[variable])
    try:
        value = path.read_text().strip()
    except OSError as exc:
        raise ConfigurationError(f"{variable}: cannot read {path}: {exc.strerror}") from None
    if not value:
        raise ConfigurationError(f"{variable}: {path} is empty")
    return value


def with_credentials(amqp_uri: str, user: str, password: str) -> str:
    """``amqp_uri`` with its user and password replaced (both percent-encoded)."""
    parts = urlsplit(amqp_uri)
    if not parts.hostname:
        raise ConfigurationError(f"AMQP_URI has no host: {amqp_uri!r}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with ``AMQP_URI`` completed from the secret files, if any are named."""
    env = dict(environ)
    named = [variable for variable in (USER_FILE, PASSWORD_FILE) if env.get(variable)]
    if not named:
        return env
    if len(named) == 1:
        raise ConfigurationError(f"{named[0]} is set without its pair: set both or neither")
    if not env.get("AMQP_URI"):
        raise ConfigurationError("the AMQP secret files need AMQP_URI (the broker's address)")
    user, password = read_secret(USER_FILE, env), read_secret(PASSWORD_FILE, env)
    # A cluster's nodes as kombu's failover list: "pyamqp://rabbitmq1/;pyamqp://rabbitmq2/".
    env["AMQP_URI"] = ";".join(
        with_credentials(node, user, password) for node in env["AMQP_URI"].split(";")
    )
    return env


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python container_env.py COMMAND [ARG...]", file=sys.stderr)
        return 2
    try:
        env = environment(os.environ)
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    os.execvpe(argv[0], argv, env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
