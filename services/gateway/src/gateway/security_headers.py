"""Response headers that tell browsers what not to do with the gateway's answers."""

from __future__ import annotations

# Every response, errors and the server's own early refusals included: a browser
# must not guess a type other than the one declared (a JSON error rendered as HTML).
EVERY_RESPONSE = {"X-Content-Type-Options": "nosniff"}

# The messenger page and its files, beside their Content-Security-Policy: never
# framed (clickjacking), and the URL is never sent on to other sites.
PAGE = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
