"""``Records``: the bounded cache of immutable records (service_runtime.record_cache)."""

import pytest

from contracts.errors import NotFound
from service_runtime.record_cache import Records


class Clock:
    """A clock the test moves by hand (the cache's expiry, without waiting)."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Loader:
    """A stand-in for an RPC read: counts its calls, raises NotFound for ``missing``."""

    def __init__(self, missing=()):
        self.calls = []
        self.missing = set(missing)

    def __call__(self, key):
        def load():
            self.calls.append(key)
            if key in self.missing:
                raise NotFound(f"{key} not found")
            return {"id": key}

        return load


def test_a_record_is_loaded_once_then_served_from_memory():
    records, load = Records(10, 60), Loader()

    first = records.get("a", load("a"))
    second = records.get("a", load("a"))

    assert first == second == {"id": "a"}
    assert load.calls == ["a"]


def test_a_failed_load_is_never_kept():
    records, load = Records(10, 60), Loader(missing={"a"})

    for _ in range(2):
        with pytest.raises(NotFound):
            records.get("a", load("a"))

    assert load.calls == ["a", "a"]


def test_a_put_record_needs_no_load():
    records, load = Records(10, 60), Loader()

    records.put("a", {"id": "a", "created": True})

    assert records.get("a", load("a")) == {"id": "a", "created": True}
    assert load.calls == []


def test_the_cache_keeps_at_most_its_size_least_recently_used_first():
    records, load = Records(2, 60), Loader()
    for key in ("a", "b"):
        records.get(key, load(key))
    records.get("a", load("a"))  # "a" is now the most recently used

    records.get("c", load("c"))
    records.get("a", load("a"))
    records.get("b", load("b"))

    records.get("a", load("a"))
    records.get("c", load("c"))  # evicted, least recently used, when "b" came back

    assert load.calls == ["a", "b", "c", "b", "c"]


def test_a_record_is_asked_for_again_after_its_lifetime():
    clock = Clock()
    records, load = Records(10, 60, clock), Loader()
    records.get("a", load("a"))

    clock.now += 59.9
    records.get("a", load("a"))
    clock.now += 0.2
    records.get("a", load("a"))

    assert load.calls == ["a", "a"]


def test_size_zero_turns_caching_off():
    records, load = Records(0, 60), Loader()
    records.put("a", {"id": "a"})

    records.get("a", load("a"))
    records.get("a", load("a"))

    assert load.calls == ["a", "a"]


def test_in_says_whether_a_read_would_be_answered_from_memory():
    clock = Clock()
    records, load = Records(10, 60, clock), Loader(missing={"b"})
    assert "a" not in records

    records.get("a", load("a"))
    with pytest.raises(NotFound):
        records.get("b", load("b"))

    assert "a" in records
    assert "b" not in records
    clock.now += 60
    assert "a" not in records  # expired
    assert "a" not in Records(0, 60)  # caching off
