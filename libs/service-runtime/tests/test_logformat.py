"""The services' log lines never carry a password, whatever a library puts in them."""

import io
import logging

from service_runtime.logformat import BatchedStreamHandler


def test_no_url_in_a_log_line_keeps_its_password():
    # What nameko logged for a broker node list, the first URL masked, the others not.
    stream = io.StringIO()
    handler = BatchedStreamHandler(stream)
    message = (
        "Error connecting to broker at pyamqp://messages:********@rabbitmq1:5672/;"
        "pyamqp://messages:s3cret@rabbitmq2:5672/;pyamqp://messages:s3cret@rabbitmq3:5672/"
    )
    record = logging.LogRecord("nameko", logging.WARNING, __file__, 1, message, None, None)

    handler.handle(record)  # a warning: written at once

    line = stream.getvalue()
    assert "s3cret" not in line
    assert "pyamqp://messages:********@rabbitmq2:5672/" in line
