"""The depth check costs linear work: every body a probe can build, and one twice its size.

Work is counted, not timed: the lines the check executes (``sys.settrace``) for a body
and for the same body twice as long. A check that restarts a scan from every quote (the
regex this replaced did, inside the regex engine) does four times the work for twice the
body; a single pass does twice.
"""

import sys

import pytest

from gateway import strict_json
from gateway.errors import MalformedJson

# The worst bodies found for each branch of the check, each to be repeated.
WORST_BODIES = {
    "unclosed-string-of-escaped-quotes": ('"', '\\"', "[" * 33),
    "escaped-backslashes": ('"', "\\\\", "[" * 33),
    "brackets-opened-and-closed": ("", "[]", "[" * 33),
    "quotes-and-brackets": ("", '"["', "[" * 33),
}


def lines_executed(function, *args) -> int:
    """How many lines of ``strict_json`` running ``function(*args)`` executes."""
    count = 0

    def trace(frame, event, _):
        nonlocal count
        if frame.f_code.co_filename != strict_json.__file__:
            return None
        if event == "line":
            count += 1
        return trace

    sys.settrace(trace)
    try:
        function(*args)
    except MalformedJson:
        pass
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize(("head", "repeated", "tail"), WORST_BODIES.values(), ids=WORST_BODIES)
def test_the_depth_check_does_linear_work(head, repeated, tail):
    size = 4000
    once = lines_executed(strict_json.check_depth, head + repeated * size + tail)
    twice = lines_executed(strict_json.check_depth, head + repeated * 2 * size + tail)

    assert once > size  # it did look at the body
    assert twice <= 2 * once + 50


def test_the_probe_body_is_refused():
    # Its brackets are inside a string that never closes: not JSON at all.
    with pytest.raises(MalformedJson, match="not valid JSON"):
        strict_json.loads(b'"' + b'\\"' * 8170 + b"[" * 33)


@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        ('{"a": "' + "[" * 40 + '"}', False),  # brackets inside a string do not nest
        ('{"a": "\\"' + "[" * 40 + '"}', False),  # an escaped quote does not end it
        ('{"a": "\\\\"' + ", " + "[" * 40, True),  # an escaped backslash does not escape
        ("[" * 32 + "]" * 32, False),
        ("[" * 33 + "]" * 33, True),
    ],
)
def test_strings_and_escapes_are_read_as_json_reads_them(text, too_deep):
    if too_deep:
        with pytest.raises(MalformedJson):
            strict_json.check_depth(text)
    else:
        strict_json.check_depth(text)
