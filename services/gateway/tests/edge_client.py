"""``requests`` bound to an edge's public URL (``service_testing.edge``)."""

import requests


class EdgeClient(requests.Session):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def request(self, method, path, *args, **kwargs):
        kwargs.setdefault("timeout", 30)
        return super().request(method, f"{self.url}{path}", *args, **kwargs)
