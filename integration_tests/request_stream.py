"""A steady stream of HTTP reads from several client threads, every answer recorded."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class Outcome:
    started: float  # time.monotonic()
    ended: float
    status: int  # 0: no HTTP answer at all (connection error, client timeout)
    correct: bool  # 200 and exactly the expected body


class RequestStream:
    """``clients`` threads GET ``base_url + path`` in turn for each (path, expected JSON),
    each waiting ``pace`` seconds between its requests."""

    def __init__(
        self, base_url: str, expected: dict[str, object], clients: int = 4, pace: float = 0.0
    ) -> None:
        self.base_url = base_url
        self.expected = expected
        self.pace = pace
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(clients)]

    def __enter__(self) -> RequestStream:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join()

    def count(self) -> int:
        with self._lock:
            return len(self.outcomes)

    def since(self, moment: float) -> list[Outcome]:
        """The outcomes of the requests started after ``moment`` (``time.monotonic()``)."""
        with self._lock:
            return [outcome for outcome in self.outcomes if outcome.started > moment]

    def _run(self, offset: int) -> None:
        paths = list(self.expected)
        with requests.Session() as session:
            for path in itertools.islice(itertools.cycle(paths), offset, None):
                if self._stopping.is_set():
                    return
                self._record(session, path)
                self._stopping.wait(self.pace)

    def _record(self, session: requests.Session, path: str) -> None:
        started = time.monotonic()
        try:
            response = session.get(self.base_url + path, timeout=30)
            status = response.status_code
            correct = status == 200 and response.json() == self.expected[path]
        except requests.RequestException:
            status, correct = 0, False
        with self._lock:
            self.outcomes.append(Outcome(started, time.monotonic(), status, correct))
