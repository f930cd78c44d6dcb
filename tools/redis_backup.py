"""Back up and restore every service's Redis of the compose stack (docs/operations.md).

    python tools/redis_backup.py backup  DIR   # while the stack runs: DIR/<redis service>.rdb
    python tools/redis_backup.py restore DIR   # stack down (volumes may be gone): back into
                                               # each Redis's volume, then `docker compose up`

The compose project is the usual one (``-p``/``COMPOSE_PROJECT_NAME``, else compose.yaml's
``name``); every compose service called ``redis-*`` is one service's Redis.

Backup: ``redis-cli --rdb`` asks the running Redis for a point-in-time snapshot (the
one a new replica would get): consistent, taken in a background fork, no writes stopped.
Restore: a one-off container on the Redis's own volume and configuration loads the
snapshot with the append-only log off, turns the log on (Redis rewrites it from the
loaded data) and shuts down; the next ``up`` then starts from that log.

Both talk to Redis as its ``admin`` user (the service's own user may not take a
snapshot), with the password tools/credentials.py wrote, passed in the environment
(``REDISCLI_AUTH``), never on a command line.

Standard library only: an operator runs it with any Python 3.11, next to Docker.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from credentials import DEFAULT_DIRECTORY

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO_ROOT / "compose.yaml"
REDIS_SERVICE_PREFIX = "redis-"
RDB_MAGIC = b"REDIS"
# Inside the Redis containers (compose.yaml mounts deploy/redis/redis.conf there).
REDIS_CONF = "/usr/local/etc/redis/redis.conf"
ADMIN_PASSWORD_FILE = DEFAULT_DIRECTORY / "redis-admin-password"
# redis-cli as the admin user; its password comes from REDISCLI_AUTH.
ADMIN_CLI = ("redis-cli", "--user", "admin")
# In the data volume: `docker cp` reads volumes, not a tmpfs (the root is read-only).
SNAPSHOT_IN_CONTAINER = "/data/backup.rdb"
RESTORE_MOUNT = "/restore/dump.rdb"
# Each wait in the restore script: at most this many polls, 0.2 s apart.
RESTORE_POLLS = 1500

# Runs in the one-off container: refuse to overwrite data unless forced, load the
# snapshot on a loopback-only port (nothing else can write meanwhile), switch the
# append-only log on and wait until Redis has written it from the loaded data.
RESTORE_SCRIPT = f"""
set -eu
export cli="{" ".join(ADMIN_CLI)} -p 6380"
wait_for() {{
  n=0
  until sh -c "$1"; do
    n=$((n + 1)); [ "$n" -lt {RESTORE_POLLS} ] || {{ echo "gave up waiting: $1" >&2; exit 1; }}
    sleep 0.2
  done
}}
if [ -e /data/appendonlydir ] && [ "$FORCE" != 1 ]; then
  echo "the volume already holds data (/data/appendonlydir); restore --force replaces it" >&2
  exit 3
fi
rm -rf /data/appendonlydir /data/dump.rdb
cp {RESTORE_MOUNT} /data/dump.rdb
redis-server {REDIS_CONF} --appendonly no --bind 127.0.0.1 --port 6380 --daemonize yes \\
  --logfile /tmp/restore.log
wait_for '$cli ping | grep -qx PONG'
$cli config set appendonly yes >/dev/null
wait_for '$cli info persistence | grep -q "^aof_rewrite_in_progress:0" &&
  $cli info persistence | grep -q "^aof_rewrite_scheduled:0" &&
  ls /data/appendonlydir/*.manifest >/dev/null 2>&1'
echo "restored $($cli dbsize) keys"
$cli shutdown >/dev/null 2>&1 || true
wait_for '! $cli ping >/dev/null 2>&1'
rm -f /data/dump.rdb
"""


def compose(project: str | None, *args: str, **kwargs) -> subprocess.CompletedProcess:
    """``docker compose`` on this repo's compose.yaml (and ``project``, when given), with
    the Redis admin's password in its environment (REDISCLI_AUTH, passed on by ``-e``)."""
    command = ["docker", "compose", "-f", str(COMPOSE_FILE)]
    if project:
        command += ["-p", project]
    env = {**os.environ, "REDISCLI_AUTH": ADMIN_PASSWORD_FILE.read_text().strip()}
    return subprocess.run([*command, *args], check=True, cwd=REPO_ROOT, env=env, **kwargs)


def redis_services(project: str | None) -> list[str]:
    listed = compose(project, "config", "--services", capture_output=True, text=True).stdout
    return sorted(name for name in listed.split() if name.startswith(REDIS_SERVICE_PREFIX))


def backup(project: str | None, directory: Path) -> dict[str, Path]:
    """A snapshot of each running Redis in ``directory``; returns service -> file."""
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for service in redis_services(project):
        target = directory / f"{service}.rdb"
        take_snapshot = ("-e", "REDISCLI_AUTH", service, *ADMIN_CLI, "--rdb", SNAPSHOT_IN_CONTAINER)
        compose(project, "exec", "-T", *take_snapshot, stdout=subprocess.DEVNULL)
        compose(project, "cp", f"{service}:{SNAPSHOT_IN_CONTAINER}", str(target))
        compose(project, "exec", "-T", service, "rm", "-f", SNAPSHOT_IN_CONTAINER)
        with target.open("rb") as snapshot:
            if snapshot.read(len(RDB_MAGIC)) != RDB_MAGIC:
                raise SystemExit(f"{target}: not an RDB snapshot")
        print(f"{service}: {target} ({target.stat().st_size} bytes)")
        written[service] = target
    return written


def restore(project: str | None, directory: Path, force: bool) -> None:
    """Each ``directory/<service>.rdb`` into its Redis's volume (those Redis stopped)."""
    services = redis_services(project)
    missing = [s for s in services if not (directory / f"{s}.rdb").is_file()]
    if missing:
        raise SystemExit(f"no snapshot in {directory} for: {', '.join(missing)}")
    running = compose(project, "ps", "-q", *services, capture_output=True, text=True).stdout
    if running.strip():
        raise SystemExit("stop the stack first: docker compose down (or stop the redis-* services)")
    for service in services:
        snapshot = (directory / f"{service}.rdb").resolve()
        one_off = ("run", "--rm", "--no-deps", "-T", "-e", f"FORCE={int(force)}")
        one_off += ("-e", "REDISCLI_AUTH")
        mount = ("-v", f"{snapshot}:{RESTORE_MOUNT}:ro")
        compose(project, *one_off, *mount, service, "sh", "-c", RESTORE_SCRIPT)
        print(f"{service}: restored from {snapshot}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-p", "--project-name", help="compose project (default: compose's)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("backup", help="snapshot every running Redis").add_argument(
        "directory", type=Path
    )
    restoring = commands.add_parser("restore", help="load snapshots into the stopped stack")
    restoring.add_argument("directory", type=Path)
    restoring.add_argument("--force", action="store_true", help="replace data already there")
    args = parser.parse_args(argv)
    if args.command == "backup":
        backup(args.project_name, args.directory)
    else:
        restore(args.project_name, args.directory, args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
