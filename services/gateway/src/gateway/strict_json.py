"""JSON request bodies read strictly: UTF-8 only, bounded nesting, no duplicate keys.

* The body must be UTF-8 without a byte order mark (RFC 8259 8.1); Python's
  ``json.loads`` would also guess UTF-16 and UTF-32 from bytes, so the body is
  decoded here first.
* Nesting deeper than ``MAX_JSON_DEPTH`` arrays and objects is refused before the
  parser runs: it recurses once per level, and around a thousand levels (2 KB of
  ``[``) raise ``RecursionError``.
* A key given twice is refused: which value wins differs between parsers.
* ``NaN`` and ``Infinity`` are not JSON and are refused.

Every refusal is ``MalformedJson`` (400) with a message about the body, never the
text of a Python exception.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from gateway.errors import MalformedJson

# Request bodies are flat objects; this leaves room and stays far from recursion limits.
MAX_JSON_DEPTH = 32
BYTE_ORDER_MARK = b"\xef\xbb\xbf"
# Strings (whose brackets do not nest) and the brackets outside them.
STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
OPENERS = frozenset("[{")


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
    for token in STRING_OR_BRACKET.findall(text):
        if token in OPENERS:
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise MalformedJson(f"request body nests deeper than {MAX_JSON_DEPTH} levels")
        elif token in "]}":
            depth -= 1


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise MalformedJson("request body has a key more than once")
    return result


def refuse_constant(name: str) -> NoReturn:
    raise MalformedJson(f"request body is not valid JSON: {name} is not a JSON value")
