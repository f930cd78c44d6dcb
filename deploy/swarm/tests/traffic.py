"""A steady, bounded stream of reads and writes through the gateway, every answer recorded.

Each client thread alternates ``GET /airport/<id>`` of a known airport with ``POST
/airport`` of a new one, at a fixed pace, until it is stopped, its time is up or it has
sent its share of the request budget. Every created airport is kept so the test can
read all of them back afterwards. Each create carries an ``Idempotency-Key``: one that got
no 201 is kept with its key, for the test to send again as a client would.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import requests

from service_testing.client_threads import ClientThreads

# Past the edge's own bound on a gateway's answer (deploy/edge/haproxy.cfg, `timeout
# server` 30 s: a gateway on a lost machine never answers): the edge's answer counts.
CLIENT_TIMEOUT = 40.0


@dataclass(frozen=True)
class Outcome:
    started: float  # time.monotonic()
    ended: float
    method: str
    status: int  # 0: no HTTP answer at all (connection error, client timeout)
    correct: bool  # the expected status and body
    error: str = ""  # what was wrong with it, when not correct

    @property
    def failed(self) -> bool:
        return not self.correct


class Traffic(ClientThreads):
    def __init__(
        self,
        base_url: str,
        known: dict[str, str],  # airport id -> name
        *,
        clients: int = 2,
        interval: float = 0.1,
        max_seconds: float,
        max_requests: int,
        label: str,
    ) -> None:
        super().__init__(clients)
        self.base_url = base_url
        self.known = dict(known)
        self.interval = interval
        self.deadline = time.monotonic() + max_seconds
        self.per_client = max_requests // clients
        self.label = label
        self.outcomes: list[Outcome] = []
        self.created: dict[str, str] = {}
        self.unanswered: dict[str, str] = {}  # Idempotency-Key -> name, of creates without 201

    def count(self) -> int:
        with self.lock:
            return len(self.outcomes)

    def run_client(self, client: int) -> None:
        ids = list(self.known)
        with requests.Session() as session:
            for n in range(self.per_client):
                if self.stopping.is_set() or time.monotonic() > self.deadline:
                    return
                if n % 2:
                    self._create(session, f"{self.label} {client}-{n}")
                else:
                    self._read(session, ids[(client + n) % len(ids)])
                self.stopping.wait(self.interval)

    def _read(self, session: requests.Session, airport_id: str) -> None:
        started = time.monotonic()
        status, correct, error = self._call(
            lambda: session.get(f"{self.base_url}/airport/{airport_id}", timeout=CLIENT_TIMEOUT),
            lambda r: (
                r.status_code == 200
                and r.json() == {"id": airport_id, "name": self.known[airport_id]}
            ),
        )
        self._record(Outcome(started, time.monotonic(), "GET", status, correct, error))

    def _create(self, session: requests.Session, name: str) -> None:
        started = time.monotonic()
        created: list[str] = []

        def check(response: requests.Response) -> bool:
            if response.status_code != 201 or response.json().get("name") != name:
                return False
            created.append(response.json()["id"])
            return True

        key = uuid.uuid4().hex
        status, correct, error = self._call(
            lambda: session.post(
                f"{self.base_url}/airport",
                json={"airport": name},
                headers={"Idempotency-Key": key},
                timeout=CLIENT_TIMEOUT,
            ),
            check,
        )
        with self.lock:
            self.created.update(dict.fromkeys(created, name))
            if not correct:
                self.unanswered[key] = name
        self._record(Outcome(started, time.monotonic(), "POST", status, correct, error))

    @staticmethod
    def _call(send, check) -> tuple[int, bool, str]:
        """(status, whether right, what was wrong): status 0 without an answer."""
        try:
            response = send()
        except requests.RequestException as exc:
            return 0, False, repr(exc)[:200]
        try:
            right = check(response)
        except ValueError:  # not JSON
            right = False
        return response.status_code, right, "" if right else response.text[:200]

    def _record(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)


def summary(outcomes: list[Outcome]) -> dict[str, int]:
    return {
        "requests": len(outcomes),
        "writes": sum(o.method == "POST" for o in outcomes),
        "failed": sum(o.failed for o in outcomes),
        "5xx": sum(o.status >= 500 for o in outcomes),
        "lost": sum(o.status == 0 for o in outcomes),
    }


def answers(outcomes: list[Outcome]) -> dict[str, int]:
    """How many of each method and status: ``{"GET 200": 68, "POST 503": 4, ...}``."""
    counted: dict[str, int] = {}
    for outcome in outcomes:
        name = f"{outcome.method} {outcome.status or 'no answer'}"
        counted[name] = counted.get(name, 0) + 1
    return dict(sorted(counted.items()))
