"""The devstack's venvs: two stacks starting at once on one checkout (a test beside the
bench, as `nox` runs them) install each venv one after the other, never both at once."""

from __future__ import annotations

import threading
import time

import devstack

INSTALL_SECONDS = 0.3


def test_two_stacks_starting_at_once_install_a_venv_one_at_a_time(tmp_path, monkeypatch):
    monkeypatch.setattr(devstack, "VENVS", tmp_path / ".venvs")
    installing: list[str] = []
    most_at_once = 0
    counted = threading.Lock()

    def install_once(service: str, venv) -> None:
        nonlocal most_at_once
        with counted:
            installing.append(service)
            most_at_once = max(most_at_once, len(installing))
        time.sleep(INSTALL_SECONDS)  # long enough for the other start to arrive meanwhile
        with counted:
            installing.remove(service)

    monkeypatch.setattr(devstack, "install_once", install_once)
    both_ready = threading.Barrier(2)

    def start() -> None:
        both_ready.wait(timeout=10)
        devstack.ensure_venv("airports")

    starts = [threading.Thread(target=start) for _ in range(2)]
    for thread in starts:
        thread.start()
    for thread in starts:
        thread.join(timeout=10)

    assert not any(thread.is_alive() for thread in starts)
    assert most_at_once == 1
