"""What a process with code execution in one of the stack's containers can reach: each
attempt of ``ATTEMPTS`` run inside a running container (``docker compose exec``), with
whatever that container holds (its own secrets under /run/secrets, the image's Python,
redis-py and amqp), and what answered it.

An answer is a short line: ``open`` / ``PONG`` / a value when the attempt got in, else
the refusal as the other side (or the network) gave it.
"""

from __future__ import annotations

import json

from integration_tests.compose import ComposeStack, networks_lock

# Run inside the container: python -c ATTEMPTS '<json list of [name, kind, args...]>'.
ATTEMPTS = r"""
import json, socket, sys
from concurrent.futures import ThreadPoolExecutor
import amqp, redis

SECONDS = 3


def secret(name):
    with open(f"/run/secrets/{name}") as file:
        return file.read().strip()


def connect(host, port):
    with socket.create_connection((host, port), timeout=SECONDS):
        return "open"


def redis_command(host, user, *command):
    password = secret("redis_password") if user else None
    client = redis.Redis(host=host, username=user, password=password,
                         socket_timeout=SECONDS, socket_connect_timeout=SECONDS)
    return str(client.execute_command(*command))[:60]


def amqp_channel(user, password):
    connection = amqp.Connection("rabbitmq:5672", userid=user, password=password,
                                 connect_timeout=SECONDS)
    connection.connect()
    return connection.channel()


def consume(queue):
    channel = amqp_channel(secret("user"), secret("amqp_password"))
    channel.basic_consume(queue, callback=print)
    return "consuming"


def bind_to_calls_of(service):
    channel = amqp_channel(secret("user"), secret("amqp_password"))
    queue = f"rpc.reply-{secret('user')}-eavesdrop"
    channel.queue_declare(queue, auto_delete=True)
    channel.queue_bind(queue, "nameko-rpc", f"{service}.*")
    return "bound"


def login(user, password):
    amqp_channel(user, password)
    return "logged in"


def http_get(host, port, path):
    import urllib.request
    with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=SECONDS) as answer:
        return f"{answer.status}"


KINDS = {"connect": connect, "redis": redis_command, "consume": consume,
         "bind": bind_to_calls_of, "login": login, "http": http_get}


def attempt(name, kind, *args):
    try:
        return name, "got in: " + KINDS[kind](*args)
    except Exception as refused:
        return name, f"{type(refused).__name__}: {refused}"[:160]


# All at once: a name the internal networks' DNS cannot resolve costs seconds each.
with ThreadPoolExecutor(16) as pool:
    answers = dict(pool.map(lambda each: attempt(*each), json.loads(sys.argv[1])))
print(json.dumps(answers))
"""


def attempts_from(stack: ComposeStack, service: str, attempts: list[list]) -> dict[str, str]:
    """Run ``attempts`` ([name, kind, args...]) in ``service``'s container: name -> answer."""
    with networks_lock():  # no network is created meanwhile (compose.NETWORKS_LOCK)
        ran = stack.compose_command(
            *("exec", "-T", service, "python", "-c", ATTEMPTS, json.dumps(attempts)),
            capture_output=True,
            text=True,
        )
    return json.loads(ran.stdout.strip().splitlines()[-1])
