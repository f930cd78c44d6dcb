"""The error table alone (pure unit tests), checked against every error class, the edge's
own refusals and the README."""

import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from werkzeug.exceptions import default_exceptions

import gateway
from contracts.errors import ServiceError
from gateway.errors import CODE_BY_HTTP_STATUS, response_from_exception, status_of

README = Path(__file__).resolve().parents[3] / "README.md"
EDGE_CONFIG = Path(__file__).resolve().parents[3] / "deploy" / "edge" / "haproxy.cfg"


def every_error_class() -> list[type[ServiceError]]:
    """Every ``ServiceError`` subclass the gateway can meet: its own and the contracts'."""
    for module in pkgutil.walk_packages(gateway.__path__, "gateway."):
        importlib.import_module(module.name)
    found, todo = [], [ServiceError]
    while todo:
        subclasses = todo.pop().__subclasses__()
        found += subclasses
        todo += subclasses
    return found


def documented_statuses() -> dict[str, int]:
    """``error`` code -> status, from the README's error table (``| 404 / 405 | `A` / `B` |``)."""
    documented = {}
    rows = re.findall(r"^\| ([\d /]+) \| (`[A-Z_]+`(?: / `[A-Z_]+`)*) \|", README.read_text(), re.M)
    for statuses, codes in rows:
        numbers = [int(status) for status in statuses.split("/")]
        names = re.findall(r"`([A-Z_]+)`", codes)
        for index, name in enumerate(names):
            documented[name] = numbers[index] if len(numbers) == len(names) else numbers[0]
    return documented


def edge_statuses() -> dict[str, int]:
    """``error`` code -> status of every body the edge answers with itself."""
    answers = re.findall(
        r'status (\d+) content-type application/json lf-string "\{\\"error\\": \\"([A-Z_]+)',
        EDGE_CONFIG.read_text(),
    )
    statuses = {}
    for status, code in answers:
        assert statuses.setdefault(code, int(status)) == int(status), f"{code}: two statuses"
    return statuses


ERRORS_BY_CODE = {error_type.code: error_type for error_type in every_error_class()}
DOCUMENTED = documented_statuses()
EDGE = edge_statuses()


@pytest.mark.parametrize(
    "error_type", every_error_class(), ids=lambda error_type: error_type.__name__
)
def test_every_service_error_has_a_status(error_type):
    assert status_of(error_type) is not None, f"{error_type.__name__} is not in STATUS_BY_ERROR"


def test_an_error_class_without_a_status_is_caught():
    class Unlisted(ServiceError):
        code = "UNLISTED"

    assert status_of(Unlisted) is None
    assert response_from_exception(Unlisted("x")).status_code == 500


@pytest.mark.parametrize(("code", "status"), sorted(DOCUMENTED.items()))
def test_each_error_answers_with_the_status_the_readme_documents(code, status):
    if code in ERRORS_BY_CODE:
        response = response_from_exception(ERRORS_BY_CODE[code]("what went wrong", field="f"))
        assert response.json == {"error": code, "message": "what went wrong", "field": "f"}
    elif code in CODE_BY_HTTP_STATUS.values():
        response = response_from_exception(http_exception_reported_as(code))
        assert response.json["error"] == code
    else:
        assert EDGE[code] == status, f"the edge answers {code} with {EDGE[code]}"
        return
    assert response.status_code == status
    if code in EDGE:  # the same answer from both layers
        assert EDGE[code] == status


def http_exception_reported_as(code):
    """The Werkzeug exception the gateway reports as ``code``."""
    [status] = [status for status, name in CODE_BY_HTTP_STATUS.items() if name == code]
    return default_exceptions[status]()


def test_the_readme_documents_every_error_code_of_both_layers():
    assert EDGE, "no JSON answers found in the edge's configuration"
    gateway_codes = set(ERRORS_BY_CODE) | set(CODE_BY_HTTP_STATUS.values())
    assert set(DOCUMENTED) == gateway_codes | set(EDGE)


def test_an_unexpected_exception_is_a_bare_500_without_internals():
    response = response_from_exception(KeyError("secret internals"))

    assert response.status_code == 500
    assert b"secret" not in response.get_data()
