"""Assertions shared by the gateway's HTTP tests."""


def assert_error(response, status, code, field=None):
    """``response`` is the gateway's JSON error body with this status, code and field."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == code
    assert body["message"]
    assert body.get("field") == field
