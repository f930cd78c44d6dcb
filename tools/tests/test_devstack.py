"""`nox -s up` for real: start the stack, walk through the API, SIGTERM it."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

import pytest
from devstack import DEFAULT_GATEWAY_PROCESSES
from isolated_stack import isolated_stack

from service_testing.services import SERVICES
from service_testing.waiting import wait_until


def call(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_up_serves_the_walkthrough_and_sigterm_stops_every_service():
    with isolated_stack() as stack:
        url = stack.url
        # One process per service, the gateway's several (devstack's default).
        assert len(stack.service_pids) == len(SERVICES) - 1 + DEFAULT_GATEWAY_PROCESSES

        status, lisbon = call("POST", f"{url}/airport", {"airport": "Lisbon"})
        assert status == 201
        status, porto = call("POST", f"{url}/airport", {"airport": "Porto"})
        assert status == 201
        assert call("GET", f"{url}/airport/{lisbon['id']}") == (200, lisbon)
        status, trip = call(
            "POST", f"{url}/trip", {"airport_from": lisbon["id"], "airport_to": porto["id"]}
        )
        assert status == 201
        assert call("GET", f"{url}/trip/{trip['id']}") == (200, trip)

        assert stack.stop() == 0
        for pid in stack.service_pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_services_die_with_a_killed_runner():
    with isolated_stack() as stack:
        stack.process.kill()  # SIGKILL: the runner gets no chance to stop anything
        stack.process.wait()

        # The kernel kills each service (PR_SET_PDEATHSIG); init reaps it shortly after.
        wait_until(lambda: all(map(gone, stack.service_pids)), 30, "the services to exit")
