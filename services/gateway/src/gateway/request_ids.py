"""``X-Request-Id``: the id on every response and on every log line of its request."""

from __future__ import annotations

import re
import uuid

REQUEST_ID_HEADER = "X-Request-Id"
# A client's id is kept only if it is short and plain: it ends up in every log line.
ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
REQUEST_ID_ENVIRON_KEY = "gateway.request_id"


def request_id_for(given: str | None) -> str:
    """The client's id when acceptable, else a new one."""
    return given if given and ACCEPTED_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
