"""``GET /`` serves the messenger page and its files from the gateway package."""

import pytest
from http_assertions import assert_error
from raw_http import assert_json_error, exchange, request_bytes

from gateway.service import GatewayService


def test_root_serves_the_page_with_a_strict_content_security_policy(start, http_session):
    start(GatewayService)

    response = http_session.get("/")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-cache"  # a deploy's new page is seen
    assert '<script src="/static/messenger.js"' in response.text


def test_the_page_script_and_stylesheet_are_served(start, http_session):
    start(GatewayService)

    script = http_session.get("/static/messenger.js")
    style = http_session.get("/static/messenger.css")

    assert script.status_code == 200
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "EventSource" in script.text
    assert style.status_code == 200
    assert style.headers["Content-Type"] == "text/css; charset=utf-8"
    assert script.headers["Cache-Control"] == style.headers["Cache-Control"] == "no-cache"


def test_unknown_static_file_is_json_404(start, http_session):
    start(GatewayService)

    assert_error(http_session.get("/static/secrets.txt"), 404, "ROUTE_NOT_FOUND")


# Sent byte for byte: an HTTP client library would resolve the dot segments itself
# and ask for /service.py, so the traversal would never reach the server.
@pytest.mark.parametrize(
    "path",
    [
        "/static/../service.py",
        "/static/%2e%2e/service.py",
        "/static/%2E%2E%2Fservice.py",
        "/static/..%2fservice.py",
        "/static/..%5cservice.py",
        "/static/%2e%2e%2f%2e%2e%2fgateway%2fservice.py",
        "/static/./../http.py",
    ],
)
def test_path_traversal_sent_raw_reads_no_file(start, edge, path):
    start(GatewayService)

    [response] = exchange(edge().port, request_bytes("GET", path, "Connection: close"))

    assert_json_error(response, 404, "ROUTE_NOT_FOUND")
    assert b"import" not in response.body
