"""Text a person typed (README, "The edge": text fields): limited as sent, trimmed of
blanks, never blank, and refusing what each field names.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints

# Letters by category, drawn as nothing by design.
HANGUL_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
CONTROLS = frozenset(map(chr, (*range(0x20), *range(0x7F, 0xA0))))
LINE_BREAK_AND_TAB = frozenset("\n\t")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_blank(char: str) -> bool:
    """White space, or a character that displays as nothing."""
    return char.isspace() or unicodedata.category(char) == "Cf" or char in HANGUL_FILLERS


def trimmed(text: str) -> str:
    start, end = 0, len(text)
    while start < end and is_blank(text[start]):
        start += 1
    while end > start and is_blank(text[end - 1]):
        end -= 1
    if start == end:
        raise ValueError("must not be blank")
    return text[start:end]


def without(characters: frozenset[str], what: str) -> AfterValidator:
    """A validator refusing any of ``characters``, named ``what`` in its message."""
    refused = re.compile("[" + "".join(sorted(map(re.escape, characters))) + "]")

    def check(text: str) -> str:
        if found := refused.search(text):
            raise ValueError(f"must not contain {what} (found U+{ord(found[0]):04X})")
        return text

    return AfterValidator(check)


def trimmed_text(max_length: int, *refusing: AfterValidator) -> Any:
    """A string of 1 to ``max_length`` characters as sent (what its JSON schema says: the
    length is checked before trimming, so no longer string passes once trimmed), kept
    without surrounding blanks, not blank, then checked by each of ``refusing``."""
    return Annotated[
        str,
        StringConstraints(min_length=1, max_length=max_length),
        AfterValidator(trimmed),
        *refusing,
    ]
