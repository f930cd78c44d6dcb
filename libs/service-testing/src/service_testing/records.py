"""Record caches turned off for ``worker_factory``: a unit or pact test must see every
call its route makes reach the stub it is checking, never a cached answer."""

from __future__ import annotations

from service_runtime.record_cache import RecordCache, Records


def records_uncached(service_cls: type) -> dict[str, Records]:
    """``worker_factory`` keyword arguments replacing each ``RecordCache`` of
    ``service_cls`` with one that keeps nothing."""
    return {
        name: Records(size=0, seconds=1)
        for name in dir(service_cls)
        if isinstance(getattr(service_cls, name), RecordCache)
    }
