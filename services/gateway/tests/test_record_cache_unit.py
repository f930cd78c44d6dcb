"""``Records``: the bounded cache of immutable records (service_runtime.record_cache)."""

import time

import pytest

from contracts.errors import NotFound
from service_runtime.record_cache import Records


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
    assert len(records) == 0


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

    assert len(records) == 2
    assert load.calls == ["a", "b", "c", "b"]


def test_a_record_is_asked_for_again_after_its_lifetime():
    records, load = Records(10, 0.05), Loader()
    records.get("a", load("a"))

    time.sleep(0.1)
    records.get("a", load("a"))

    assert load.calls == ["a", "a"]


def test_size_zero_turns_caching_off():
    records, load = Records(0, 60), Loader()
    records.put("a", {"id": "a"})

    records.get("a", load("a"))
    records.get("a", load("a"))

    assert load.calls == ["a", "a"]
    assert len(records) == 0


def test_in_says_whether_a_read_would_be_answered_from_memory():
    records, load = Records(10, 0.05), Loader(missing={"b"})
    assert "a" not in records

    records.get("a", load("a"))
    with pytest.raises(NotFound):
        records.get("b", load("b"))

    assert "a" in records
    assert "b" not in records
    time.sleep(0.1)
    assert "a" not in records  # expired
    assert "a" not in Records(0, 60)  # caching off
