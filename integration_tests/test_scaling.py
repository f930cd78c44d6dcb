"""Nameko's concurrency, measured: workers bound one instance, instances add up.

20 calls that each sleep 1 s, sent at once: one instance with the default 10
workers needs two rounds (~2 s); two instances share the queue and need one (~1 s).
"""

from __future__ import annotations

import time

from nameko.standalone.rpc import ClusterRpcProxy

from integration_tests.sleeper import SERVICE_NAME

CALLS = 20
SECONDS_PER_CALL = 1.0
WORKERS_PER_INSTANCE = 10
# Each figure is the best of SAMPLES runs: one slow moment of a shared machine cannot
# fail the test, and without scaling even the best run of two instances is slow.
SAMPLES = 3


def parallel_calls(amqp_uri: str) -> tuple[float, set[int]]:
    """Best elapsed time of ``CALLS`` parallel ``sleep`` calls over ``SAMPLES`` runs, and
    the pids that served them."""
    elapsed: list[float] = []
    pids: set[int] = set()
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=60) as cluster:
        sleeper = getattr(cluster, SERVICE_NAME)
        for _ in range(SAMPLES):
            started = time.monotonic()
            replies = [sleeper.sleep.call_async(SECONDS_PER_CALL) for _ in range(CALLS)]
            pids |= {reply.result() for reply in replies}
            elapsed.append(time.monotonic() - started)
    return min(elapsed), pids


def test_a_second_instance_halves_the_time_of_parallel_calls(services, amqp_uri, report):
    first = services.start_rpc_service(SERVICE_NAME, MAX_WORKERS=str(WORKERS_PER_INSTANCE))
    one_instance, served_by_one = parallel_calls(amqp_uri)

    second = services.start_rpc_service(SERVICE_NAME, MAX_WORKERS=str(WORKERS_PER_INSTANCE))
    two_instances, served_by_two = parallel_calls(amqp_uri)

    ratio = one_instance / two_instances
    report(
        f"scaling: {CALLS} x {SECONDS_PER_CALL:g} s calls, best of {SAMPLES}: "
        f"1 instance {one_instance:.2f} s, "
        f"2 instances {two_instances:.2f} s, ratio {ratio:.2f}"
    )
    assert served_by_one == {first.pid}
    assert served_by_two == {first.pid, second.pid}
    # A logical bound, not a timing guess: 10 workers serve 20 calls in two rounds.
    rounds = CALLS / WORKERS_PER_INSTANCE
    assert one_instance >= rounds * SECONDS_PER_CALL
    # ~2 expected; generous for a noisy 2-core machine.
    assert ratio > 1.4
