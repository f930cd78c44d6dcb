"""The one id type of every record that crosses a service boundary."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

# Services mint 32-hex-character ids (uuid4().hex); the bound only keeps an id short
# enough for a Redis key and a log line, so ids minted elsewhere (tests, older data) pass.
ENTITY_ID_MAX_LENGTH = 64

EntityId = Annotated[str, StringConstraints(min_length=1, max_length=ENTITY_ID_MAX_LENGTH)]
