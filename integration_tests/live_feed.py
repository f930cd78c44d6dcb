"""The gateway's live feed (``GET /messages/stream``, Server-Sent Events) read on a thread
of its own: the id of every ``message_created`` event, as it arrives.

The gateway must send a heartbeat comment at least every ``READ_SECONDS`` (set its
``STREAM_HEARTBEAT_SECONDS`` below that): each line lets the reader notice it is told
to stop, so leaving the ``with`` block never waits on a silent socket.
"""

from __future__ import annotations

import json
import threading
from typing import Self

import requests

READ_SECONDS = 10


class LiveFeed:
    def __init__(self, gateway_url: str) -> None:
        self.url = f"{gateway_url}/messages/stream"
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.ids: set[str] = set()
        self.response: requests.Response | None = None
        self.thread = threading.Thread(target=self._read)

    def __enter__(self) -> Self:
        self.response = requests.get(self.url, stream=True, timeout=READ_SECONDS)
        assert self.response.status_code == 200, self.response.text
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.thread.join()
        self.response.close()

    def received(self, message_id: str) -> bool:
        with self.lock:
            return message_id in self.ids

    def _read(self) -> None:
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                if self.stopping.is_set():
                    return
                if line.startswith("data: "):
                    with self.lock:
                        self.ids.add(json.loads(line.removeprefix("data: "))["id"])
        except requests.RequestException:
            return  # the stream ended; the test sees no more events
