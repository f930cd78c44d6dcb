"""Query-string arguments, read strictly: given once, integers in plain ASCII digits.

Python's ``int()`` also takes ``" 5"``, ``"+5"``, ``"5_0"`` and digits of other
scripts (Arabic-Indic, fullwidth...); a proxy or cache in front may read those
differently, so they are refused, as is a parameter given twice (which copy counts
differs between frameworks).
"""

from __future__ import annotations

import re

from werkzeug.wrappers import Request

from contracts.errors import InvalidArgument

PLAIN_DIGITS = re.compile(r"[0-9]{1,9}", re.ASCII)


def int_arg(request: Request, name: str) -> int | None:
    """The argument as a non-negative integer, or None when absent."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise InvalidArgument(f"{name}: given more than once", field=name)
    if not values:
        return None
    if not PLAIN_DIGITS.fullmatch(values[0]):
        raise InvalidArgument(f"{name}: must be an integer (plain digits 0-9)", field=name)
    return int(values[0])
