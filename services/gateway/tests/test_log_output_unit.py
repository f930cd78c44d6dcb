"""``BatchedStreamHandler``: INFO lines gather into one write; warnings never wait."""

import io
import logging
import time

import pytest

from service_runtime import logformat
from service_runtime.logformat import BatchedStreamHandler


@pytest.fixture
def output():
    stream = io.StringIO()
    handler = BatchedStreamHandler(stream)
    logger = logging.getLogger(f"test-batched-{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)
    handler.close()


def test_info_lines_are_written_together_within_the_flush_interval(output):
    logger, stream = output

    logger.info("one")
    logger.info("two")
    assert stream.getvalue() == ""

    time.sleep(logformat.FLUSH_SECONDS * 3)
    assert stream.getvalue() == "one\ntwo\n"


def test_a_warning_is_written_at_once_after_the_lines_before_it(output):
    logger, stream = output

    logger.info("before")
    logger.warning("trouble")

    assert stream.getvalue() == "before\ntrouble\n"


def test_a_full_batch_is_written_at_once(output):
    logger, stream = output

    for number in range(logformat.BATCH_LINES):
        logger.info("line %d", number)

    assert stream.getvalue().count("\n") == logformat.BATCH_LINES


def test_closing_writes_what_is_pending(output):
    logger, stream = output
    logger.info("last words")

    logger.handlers[0].flush()

    assert stream.getvalue() == "last words\n"
