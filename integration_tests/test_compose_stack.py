"""The operator's path: ``docker compose up --build`` serves the walkthrough, the
services stop gracefully, and ``docker compose down`` leaves nothing behind.

Runs under a project name and edge host port of its own (COMPOSE_PROJECT_NAME,
EDGE_HOST_PORT), so a developer's stack on :8000 is never touched.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from integration_tests.compose import ComposeStack, running_compose_stack
from service_testing.oversized_body import assert_413_json, post_whole_then_read
from service_testing.waiting import wait_until

# The services built from this repo; RabbitMQ and Redis are infrastructure.
OUR_SERVICES = ("airports", "trips", "messages", "gateway")
# Every client call is bounded: a hung stack fails the test instead of blocking the run.
HTTP_SECONDS = 30


@pytest.fixture
def compose_stack(integration_mode: str, monkeypatch, report) -> Iterator[ComposeStack]:
    with running_compose_stack(integration_mode, monkeypatch, report) as stack:
        yield stack


def created_id(response: requests.Response) -> str:
    assert response.status_code == 201, response.text
    return response.json()["id"]


# The gateway's default burst (MESSAGE_RATE_LIMIT_BURST), which compose leaves as is.
RATE_LIMIT_BURST = 10
# Run inside a service's container (its image has Python): posts to the edge, by name,
# until one is refused (a token comes back every second meanwhile) or ``count`` are sent;
# prints each status, then the last body.
POSTS_TO_THE_EDGE = """
import sys, urllib.error, urllib.request
for _ in range(int(sys.argv[1])):
    request = urllib.request.Request(
        "http://edge:8000/messages", data=b'{"message": "from inside"}',
        headers={"Content-Type": "application/json", "Host": "localhost"})
    try:
        answer = urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as error:
        answer = error
    body = answer.read().decode()
    print(answer.status)
    if answer.status == 429:
        break
print(body)
"""


def posts_from(stack: ComposeStack, service: str, count: int) -> tuple[list[int], str]:
    """Posts to the edge from ``service``'s container, until refused or ``count`` are sent:
    (statuses, last body)."""
    ran = stack.compose_command(
        "exec",
        "-T",
        service,
        *("python", "-c", POSTS_TO_THE_EDGE, str(count)),
        capture_output=True,
        text=True,
    )
    *statuses, body = ran.stdout.strip().splitlines()
    return [int(status) for status in statuses], body


def gateways_answering(stack: ComposeStack, api: str, marker: str) -> set[str]:
    """Send a batch of requests tagged ``marker`` to the edge; the gateway containers whose
    log holds one tagged so (this batch's or an earlier one's: logs are written in batches)."""
    for n in range(10):
        requests.get(f"{api}/health", headers={"X-Request-Id": f"{marker}-{n}"}, timeout=10)
    return {
        container.name
        for container in stack.containers()
        if container.labels["com.docker.compose.service"] == "gateway"
        and marker in container.logs().decode(errors="replace")
    }


def test_travel_and_messenger_walkthrough_on_compose_then_down_leaves_nothing(compose_stack):
    api = compose_stack.url
    with requests.Session() as http:
        assert http.get(f"{api}/ready", timeout=HTTP_SECONDS).status_code == 200
        amsterdam = created_id(
            http.post(f"{api}/airport", json={"airport": "Amsterdam"}, timeout=HTTP_SECONDS)
        )
        berlin = created_id(
            http.post(f"{api}/airport", json={"airport": "Berlin"}, timeout=HTTP_SECONDS)
        )
        trip = created_id(
            http.post(
                f"{api}/trip",
                json={"airport_from": amsterdam, "airport_to": berlin},
                timeout=HTTP_SECONDS,
            )
        )
        assert http.get(f"{api}/trip/{trip}", timeout=HTTP_SECONDS).json() == {
            "id": trip,
            "airport_from": amsterdam,
            "airport_to": berlin,
        }
        assert http.get(f"{api}/airport/{berlin}", timeout=HTTP_SECONDS).json() == {
            "id": berlin,
            "name": "Berlin",
        }
        message = created_id(
            http.post(
                f"{api}/messages", json={"message": "hello from compose"}, timeout=HTTP_SECONDS
            )
        )
        listed = http.get(f"{api}/messages", timeout=HTTP_SECONDS).json()
        assert [(m["id"], m["text"]) for m in listed] == [(message, "hello from compose")]

    # Through Docker's port publishing too, a client that writes a whole oversized body
    # before reading gets its 413 JSON, not a reset.
    for connection in ("close", "keep-alive"):
        assert_413_json(post_whole_then_read(api, 2_000_000, connection))

    # The gateway is reached through the edge only, and keys the rate limit on the
    # address the edge saw: two clients inside the network (two containers, two
    # addresses) get a bucket each, and no answer shows an address.
    assert [port for port in compose_stack.published_ports("gateway")] == []
    first, refusal = posts_from(compose_stack, "airports", 3 * RATE_LIMIT_BURST)
    second, _ = posts_from(compose_stack, "trips", 1)
    *accepted, refused = first
    assert refused == 429
    assert set(accepted) == {201}
    assert len(accepted) >= RATE_LIMIT_BURST
    assert "RATE_LIMITED" in refusal
    assert "172." not in refusal
    assert "10." not in refusal
    assert second == [201]

    # A second gateway, started while the edge runs, gets requests from it: the edge
    # follows the replicas in the network's DNS without a reload or a restart.
    compose_stack.compose_command(
        "up", "--detach", "--wait", "--no-recreate", "--scale", "gateway=2", "gateway"
    )
    marker = f"scale-{uuid.uuid4().hex[:8]}"
    wait_until(
        lambda: len(gateways_answering(compose_stack, api, marker)) == 2,
        HTTP_SECONDS,
        "both gateways to answer through the edge",
    )

    # Each service runs as PID 1 (exec), started by the lean entry point.
    for container in compose_stack.containers():
        if container.labels["com.docker.compose.service"] in OUR_SERVICES:
            command = container.exec_run(["cat", "/proc/1/cmdline"]).output.split(b"\0")
            assert command[:3] == [b"python", b"-m", b"service_runtime.serve"], command

    # SIGTERM must reach the service (PID 1 via exec): exit code 0, not 137 from
    # the SIGKILL Docker sends when the grace period runs out.
    compose_stack.compose_command("stop", *OUR_SERVICES)
    exit_codes = {
        c.labels["com.docker.compose.service"]: c.attrs["State"]["ExitCode"]
        for c in compose_stack.containers()
        if c.labels["com.docker.compose.service"] in OUR_SERVICES
    }
    assert exit_codes == dict.fromkeys(OUR_SERVICES, 0)

    compose_stack.compose.stop()
    assert compose_stack.leftovers() == {"containers": [], "networks": [], "volumes": []}
