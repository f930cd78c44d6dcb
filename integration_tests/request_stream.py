"""A steady stream of HTTP reads from several client threads, every answer recorded."""

from __future__ import annotations

import itertools
import time
import uuid
from dataclasses import dataclass

import requests

from service_testing.client_threads import ClientThreads

CREATE_ATTEMPTS = 5


@dataclass(frozen=True)
class Outcome:
    started: float  # time.monotonic()
    ended: float
    status: int  # 0: no HTTP answer at all (connection error, client timeout)
    correct: bool  # 200 and exactly the expected body


class RequestStream(ClientThreads):
    """``clients`` threads GET ``base_url + path`` in turn for each (path, expected JSON),
    each waiting ``pace`` seconds between its requests."""

    def __init__(
        self, base_url: str, expected: dict[str, object], clients: int = 4, pace: float = 0.0
    ) -> None:
        super().__init__(clients)
        self.base_url = base_url
        self.expected = expected
        self.pace = pace
        self.outcomes: list[Outcome] = []

    def count(self) -> int:
        with self.lock:
            return len(self.outcomes)

    def since(self, moment: float) -> list[Outcome]:
        """The outcomes of the requests started after ``moment`` (``time.monotonic()``)."""
        with self.lock:
            return [outcome for outcome in self.outcomes if outcome.started > moment]

    def run_client(self, client: int) -> None:
        paths = list(self.expected)
        with requests.Session() as session:
            for path in itertools.islice(itertools.cycle(paths), client, None):
                if self.stopping.is_set():
                    return
                self._record(session, path)
                self.stopping.wait(self.pace)

    def _record(self, session: requests.Session, path: str) -> None:
        started = time.monotonic()
        try:
            response = session.get(self.base_url + path, timeout=30)
            status = response.status_code
            correct = status == 200 and response.json() == self.expected[path]
        except requests.RequestException:
            status, correct = 0, False
        with self.lock:
            self.outcomes.append(Outcome(started, time.monotonic(), status, correct))


def create_airports(gateway_url: str, names: tuple[str, ...]) -> dict[str, object]:
    """Create an airport per name; return {path: the JSON body a GET of it must answer},
    the ``expected`` of a ``RequestStream``."""
    expected: dict[str, object] = {}
    for name in names:
        # As a client is told to (README): a 503 is retried with the same Idempotency-Key.
        # The outage tests' publish timeout is a tenth of its default, which a loaded
        # machine's broker sometimes misses before any fault is injected.
        key = {"Idempotency-Key": uuid.uuid4().hex}
        for _ in range(CREATE_ATTEMPTS):
            response = requests.post(
                f"{gateway_url}/airport", json={"airport": name}, headers=key, timeout=30
            )
            if response.status_code != 503:
                break
            time.sleep(0.5)
        assert response.status_code == 201, response.text
        airport_id = response.json()["id"]
        expected[f"/airport/{airport_id}"] = {"id": airport_id, "name": name}
    return expected
