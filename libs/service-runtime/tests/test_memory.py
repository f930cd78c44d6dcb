"""``service_runtime.memory``: a worker's objects are freed when it ends, without waiting
for the cyclic garbage collector; memory is released after a quiet period that followed work."""

import gc
import weakref
from collections.abc import Iterator

import pytest
from nameko.containers import ServiceContainer
from nameko.extensions import DependencyProvider
from nameko.testing.services import dummy

from service_runtime.memory import QuietPeriods, ReleasedMemory


class Proxy:
    """Holds its worker context, as nameko's RPC proxies do: the cycle under test."""

    def __init__(self, worker_ctx: object) -> None:
        self.worker_ctx = worker_ctx


class ProxyProvider(DependencyProvider):
    """Injects a ``Proxy`` and remembers each worker's service instance, weakly."""

    def setup(self) -> None:
        self.instances: list[weakref.ref] = []

    def get_dependency(self, worker_ctx):
        self.instances.append(weakref.ref(worker_ctx.service))
        return Proxy(worker_ctx)


class Released:
    name = "released"
    proxy = ProxyProvider()
    memory = ReleasedMemory()

    @dummy
    def work(self) -> str:
        return "done"


class Kept:
    name = "kept"
    proxy = ProxyProvider()

    @dummy
    def work(self) -> str:
        return "done"


@pytest.fixture
def no_cyclic_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def instance_after_one_worker(service_cls: type) -> weakref.ref:
    """The service instance of one worker, run to its end (this process is not
    monkey-patched, so the worker is spawned directly rather than through a test hook)."""
    container = ServiceContainer(service_cls, config={})
    container.start()
    (entrypoint,) = container.entrypoints
    container.spawn_worker(entrypoint, (), {})
    container.stop()  # waits for the worker to end
    (provider,) = [dep for dep in container.dependencies if isinstance(dep, ProxyProvider)]
    return provider.instances[0]


def test_a_finished_workers_service_instance_is_freed_without_the_cyclic_gc(no_cyclic_gc):
    assert instance_after_one_worker(Released)() is None


def test_without_it_the_cycle_keeps_the_instance_until_a_collection(no_cyclic_gc):
    instance = instance_after_one_worker(Kept)
    assert instance() is not None
    gc.collect()
    assert instance() is None


def test_start_up_counts_as_work_released_after_its_first_quiet_period():
    periods = QuietPeriods()
    assert periods.quiet_after_work() is False  # the first period only observes
    assert periods.quiet_after_work() is True
    assert periods.quiet_after_work() is False  # nothing new since the release


def test_a_period_with_a_worker_in_it_is_not_quiet():
    periods = QuietPeriods()
    periods.quiet_after_work()
    periods.quiet_after_work()
    periods.worker_started()
    assert periods.quiet_after_work() is False
    periods.worker_started()
    assert periods.quiet_after_work() is False  # still busy
    assert periods.quiet_after_work() is True  # quiet after the work
    assert periods.quiet_after_work() is False
