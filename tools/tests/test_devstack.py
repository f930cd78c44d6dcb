"""`nox -s up` for real: start the stack, walk through the API, SIGTERM it."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

import pytest
from isolated_stack import isolated_stack


def call(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, method=method, data=None if body is None else json.dumps(body).encode()
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_up_serves_the_walkthrough_and_sigterm_stops_every_service():
    with isolated_stack() as stack:
        url = stack.url
        assert len(stack.service_pids) == 4

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
