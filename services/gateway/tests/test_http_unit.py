"""``JsonHttpEntrypoint.handle_result``: a failed worker's error reaches the connection's
green thread as its JSON response, not as an exception to re-raise there (whose traceback
would make the request's whole stack a reference cycle)."""

import json
import sys

from eventlet.event import Event

from contracts.errors import NotFound
from gateway.errors import response_from_exception
from gateway.http import JsonHttpEntrypoint


def entrypoint() -> JsonHttpEntrypoint:
    return JsonHttpEntrypoint("GET", "/airport/<string:airport_id>")


def test_a_failed_workers_error_is_sent_as_its_json_response():
    error = NotFound("airport 'x' not found", field="id")
    try:
        raise error
    except NotFound:
        exc_info = sys.exc_info()
    event = Event()
    passed_on = entrypoint().handle_result(event, None, None, exc_info)
    response = event.wait()  # raises if the exception itself was sent
    expected = response_from_exception(error)
    assert response.status_code == expected.status_code == 404
    assert json.loads(response.get_data()) == json.loads(expected.get_data())
    # nameko's providers (metrics, the call log) still see the worker's error
    assert passed_on == (None, exc_info)


def test_a_result_is_sent_unchanged():
    event = Event()
    result = object()
    assert entrypoint().handle_result(event, None, result, None) == (result, None)
    assert event.wait() is result
