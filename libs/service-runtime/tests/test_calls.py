"""``CallObserver``: an HTTP route's call line and metrics wait for its response to close."""

import gc
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
