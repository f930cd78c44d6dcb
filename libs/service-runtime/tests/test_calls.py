"""``CallObserver``: an HTTP route's call line and metrics wait for its response to close;
the answer's reader gets the CPU first when no other call is in flight."""

import gc
import os
import weakref
from types import SimpleNamespace

from werkzeug.wrappers import Response

from service_runtime.calls import CallObserver


class WorkerContext:  # what the observer reads of nameko's
    service_name = "gateway"
    entrypoint = SimpleNamespace(method_name="route")
    context_data: dict = {}


def test_a_closed_response_is_freed_without_the_cyclic_collector():
    # Every response the gateway answers passes through here: were it cyclic garbage, the
    # gateway would hold thousands of them between collections (idle RSS after load).
    observer = CallObserver()
    worker_ctx = WorkerContext()
    observed = []
    observer.observe = lambda ctx, call, result, error: observed.append(result.status_code)
    response = Response("{}", status=201)
    gc.disable()
    try:
        observer.worker_setup(worker_ctx)
        observer.worker_result(worker_ctx, response)
        observer.worker_teardown(worker_ctx)
        assert observed == []  # not before the client has its answer

        response.close()
        freed = weakref.ref(response)
        del response

        assert observed == [201]
        assert freed() is None
    finally:
        gc.enable()


def test_the_answers_reader_goes_first_only_when_no_other_call_is_in_flight(monkeypatch):
    yields = []
    monkeypatch.setattr(os, "sched_yield", lambda: yields.append("yield"))
    observer = CallObserver()
    alone, other = WorkerContext(), WorkerContext()

    observer.worker_setup(alone)
    observer.worker_result(alone, {"id": "1"})  # an RPC reply: observed at once
    observer.worker_teardown(alone)
    assert yields == ["yield"]

    observer.worker_setup(alone)
    observer.worker_setup(other)
    observer.worker_result(alone, {"id": "1"})  # under load: the CPU has other work
    observer.worker_teardown(alone)
    assert yields == ["yield"]

    response = Response("{}")
    observer.worker_result(other, response)
    observer.worker_teardown(other)
    assert yields == ["yield"]  # not before the client has its answer
    response.close()
    assert yields == ["yield", "yield"]
