"""``GET /`` serves the messenger page and its files from the gateway package."""

from http_assertions import assert_error

from gateway.service import GatewayService


def test_root_serves_the_page_with_a_strict_content_security_policy(start, http_session):
    start(GatewayService)

    response = http_session.get("/")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
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


def test_unknown_static_file_is_json_404(start, http_session):
    start(GatewayService)

    assert_error(http_session.get("/static/secrets.txt"), 404, "ROUTE_NOT_FOUND")
    assert_error(http_session.get("/static/../service.py"), 404, "ROUTE_NOT_FOUND")
