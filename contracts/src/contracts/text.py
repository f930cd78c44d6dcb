"""Text a person typed: limited as sent, stored without surrounding whitespace."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints


def _trimmed(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise ValueError("must not be blank")
    return stripped


def trimmed_text(max_length: int) -> Any:
    """A string of 1 to ``max_length`` characters as sent (what its JSON schema says: the
    length is checked before trimming, so no longer string passes once trimmed), kept
    without surrounding whitespace, and not blank."""
    return Annotated[
        str, StringConstraints(min_length=1, max_length=max_length), AfterValidator(_trimmed)
    ]
