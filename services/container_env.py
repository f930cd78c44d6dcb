"""Entrypoint of every service image: ``python container_env.py COMMAND [ARG...]`` runs
COMMAND with ``AMQP_URI`` and ``REDIS_URL`` completed from credential files (README,
"Security"). Only the standard library: images of released versions are built with it too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

# Each URI variable, and the variables naming its user's and password's files.
CREDENTIAL_FILES = {
    "AMQP_URI": ("AMQP_USER_FILE", "AMQP_PASSWORD_FILE"),
    "REDIS_URL": ("REDIS_USER_FILE", "REDIS_PASSWORD_FILE"),
}


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


def with_credentials(uri: str, user: str, password: str, variable: str = "AMQP_URI") -> str:
    """``uri`` (the value of ``variable``) with its user and password replaced (both
    percent-encoded)."""
    parts = urlsplit(uri)
    if not parts.hostname:
        raise ConfigurationError(f"{variable} has no host: {uri!r}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with each URI completed from its secret files, where they are named."""
    env = dict(environ)
    for uri, (user_file, password_file) in CREDENTIAL_FILES.items():
        named = [variable for variable in (user_file, password_file) if env.get(variable)]
        if not named:
            continue
        if len(named) == 1:
            raise ConfigurationError(f"{named[0]} is set without its pair: set both or neither")
        if not env.get(uri):
            raise ConfigurationError(f"{user_file} and {password_file} need {uri} (the address)")
        user, password = read_secret(user_file, env), read_secret(password_file, env)
        # A cluster's nodes as kombu's failover list: "pyamqp://rabbitmq1/;pyamqp://rabbitmq2/".
        env[uri] = ";".join(
            with_credentials(node, user, password, uri) for node in env[uri].split(";")
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
