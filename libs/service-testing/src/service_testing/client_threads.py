"""Load from several client threads for the length of a ``with`` block.

The streams of requests that failover, outage and swarm tests run while they break
something share this: the threads start on entering the block and are told to stop,
then joined, on leaving it, also when the block failed.
"""

from __future__ import annotations

import threading
from typing import Self


class ClientThreads:
    """``clients`` threads each running ``run_client(n)`` until ``stopping`` is set."""

    def __init__(self, clients: int) -> None:
        self.lock = threading.Lock()  # guards what the subclass records
        self.stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self.run_client, args=(n,)) for n in range(clients)
        ]

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join()

    def run_client(self, client: int) -> None:
        """One client's requests; returns when ``stopping`` is set (or it is done)."""
        raise NotImplementedError
