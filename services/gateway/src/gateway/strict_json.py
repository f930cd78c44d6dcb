"""JSON request bodies read strictly (README, "The edge": JSON); every refusal is a
``MalformedJson`` about the body, never a Python exception's text.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from gateway.errors import MalformedJson

# Bodies are flat objects; this leaves room, far from the parser's recursion limit.
MAX_JSON_DEPTH = 32
BYTE_ORDER_MARK = b"\xef\xbb\xbf"
# Every character the depth check looks at; one at a time, so matching cannot backtrack.
STRUCTURAL = re.compile(r'[\[\]{}"\\]')
OPENERS = frozenset("[{")
CLOSERS = frozenset("]}")


def loads(raw: bytes) -> Any:
    if raw.startswith(BYTE_ORDER_MARK):
        raise MalformedJson("request body must be UTF-8 JSON without a byte order mark")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJson("request body must be UTF-8 JSON") from None
    if "\x00" in text:  # UTF-16 and UTF-32 text is full of them; JSON never holds a raw one
        raise MalformedJson("request body must be UTF-8 JSON (it holds NUL bytes)")
    check_depth(text)
    try:
        return json.loads(text, object_pairs_hook=unique_keys, parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        raise MalformedJson(
            f"request body is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"
        ) from None
    except ValueError:  # the only other one: an integer longer than Python converts
        raise MalformedJson(
            "request body is not valid JSON: a number has too many digits"
        ) from None


def check_depth(text: str) -> None:
    # Fast path: fewer opening brackets than the bound cannot nest deeper than it.
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return
    depth = 0
    in_string = False
    escaped_at = -1  # the position a backslash in a string escapes
    for match in STRUCTURAL.finditer(text):
        position, char = match.start(), match[0]
        if position == escaped_at:
            continue
        if in_string:
            if char == "\\":
                escaped_at = position + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in OPENERS:
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise MalformedJson(f"request body nests deeper than {MAX_JSON_DEPTH} levels")
        elif char in CLOSERS:
            depth -= 1


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise MalformedJson("request body has a key more than once")
    return result


def refuse_constant(name: str) -> NoReturn:
    raise MalformedJson(f"request body is not valid JSON: {name} is not a JSON value")
