"""The one id type of every record that crosses a service boundary."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

# Services mint 32 hex digits; the bound only keeps ids short (Redis keys, log lines).
ENTITY_ID_MAX_LENGTH = 64

EntityId = Annotated[str, StringConstraints(min_length=1, max_length=ENTITY_ID_MAX_LENGTH)]
