"""The error table alone (pure unit tests)."""

import pytest

from contracts.errors import EXPECTED_ERRORS
from gateway.errors import STATUS_BY_ERROR, response_from_exception


@pytest.mark.parametrize("error_type", EXPECTED_ERRORS)
def test_every_expected_service_error_has_a_4xx_or_503_504_status(error_type):
    assert STATUS_BY_ERROR[error_type] in {400, 404, 422, 503, 504}


def test_an_unexpected_exception_is_a_bare_500_without_internals():
    response = response_from_exception(KeyError("secret internals"))

    assert response.status_code == 500
    assert b"secret" not in response.get_data()
