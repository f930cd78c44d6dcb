"""HTTP/1.1 message framing, strictly: where a request's body ends, and reading it.

Request smuggling lives in the gaps between how two parsers frame the same bytes,
so anything a strict reading of RFC 9112 would not frame exactly one way is refused
rather than guessed at:

* ``Transfer-Encoding`` must be exactly ``chunked`` (one header, any letter case):
  anything else (``gzip, chunked``, ``chunked, identity``, ``xchunked``) is 501;
* ``Transfer-Encoding`` and ``Content-Length`` together are 400, as are two
  different ``Content-Length`` values or one that is not plain ASCII digits;
* a chunk-size line is 1-8 hex digits, optional ``;extensions``, then CRLF; a chunk
  must end in CRLF; the body must end with the zero-size chunk and a bounded
  trailer section. Anything else, a cut-off body included, is 400.

Nothing here blocks for long by itself: the caller bounds every read with a deadline.
"""

from __future__ import annotations

import re
from email.errors import FirstHeaderLineIsContinuationDefect, MissingHeaderBodySeparatorDefect
from email.message import Message
from typing import BinaryIO

from werkzeug.exceptions import RequestEntityTooLarge

from gateway.errors import MalformedRequest, UnsupportedTransferEncoding

CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")
# RFC 9110 field-name: a token.
FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
CHUNK_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,8})(?:;[^\r\n]*)?\r\n")
# Bounds on what a chunked body may add around its data.
MAX_CHUNK_LINE_BYTES = 1024
MAX_TRAILER_LINES = 32

CHUNKED = None  # what ``body_length`` answers for a chunked body
# What the header parser records for a line without a colon (or a name with a space
# before it) and for a first line that is a continuation; it then stops reading
# headers, so what followed would otherwise be silently dropped.
HEADER_LINE_DEFECTS = (MissingHeaderBodySeparatorDefect, FirstHeaderLineIsContinuationDefect)


def check_field_names(headers: Message) -> None:
    """Every header line has a name that is a token and a colon (no ``Name : value``)."""
    if any(isinstance(defect, HEADER_LINE_DEFECTS) for defect in headers.defects) or not all(
        FIELD_NAME.fullmatch(name) for name in headers
    ):
        raise MalformedRequest("malformed header line")


def body_length(headers: Message, request_version: str) -> int | None:
    """The declared body length in bytes, or ``CHUNKED``."""
    lengths = headers.get_all("Content-Length") or []
    codings = headers.get_all("Transfer-Encoding") or []
    if codings:
        if lengths:
            raise MalformedRequest("Content-Length and Transfer-Encoding must not come together")
        if len(codings) != 1 or codings[0].strip(" \t").lower() != "chunked":
            raise UnsupportedTransferEncoding("the only Transfer-Encoding served is chunked")
        if request_version == "HTTP/1.0":
            raise MalformedRequest("HTTP/1.0 has no Transfer-Encoding")
        return CHUNKED
    if not lengths:
        return 0
    values = {value.strip(" \t") for value in lengths}
    if len(values) != 1:
        raise MalformedRequest("two different Content-Length values")
    [value] = values
    if not CONTENT_LENGTH.fullmatch(value):
        raise MalformedRequest("Content-Length must be a number of bytes in plain digits")
    return int(value)


def read_exactly(rfile: BinaryIO, length: int) -> bytes:
    data = rfile.read(length)
    if len(data) != length:
        raise MalformedRequest("the request body ended before its declared length")
    return data


def read_chunked(rfile: BinaryIO, max_bytes: int) -> bytes:
    """The de-chunked body; 413 as soon as it grows past ``max_bytes``."""
    chunks = []
    total = 0
    while size := chunk_size(rfile.readline(MAX_CHUNK_LINE_BYTES)):
        total += size
        if total > max_bytes:
            raise RequestEntityTooLarge()
        chunks.append(read_exactly(rfile, size))
        if rfile.read(2) != b"\r\n":
            raise MalformedRequest("a chunk does not end where its size says")
    skip_trailers(rfile)
    return b"".join(chunks)


def chunk_size(line: bytes) -> int:
    match = CHUNK_SIZE_LINE.fullmatch(line)
    if match is None:
        if not line:
            raise MalformedRequest("the chunked body ended before its last chunk")
        raise MalformedRequest("malformed chunk size line")
    return int(match[1], 16)


def skip_trailers(rfile: BinaryIO) -> None:
    for _ in range(MAX_TRAILER_LINES):
        line = rfile.readline(MAX_CHUNK_LINE_BYTES)
        if line == b"\r\n":
            return
        if not line.endswith(b"\r\n"):
            raise MalformedRequest("malformed trailer section of the chunked body")
    raise MalformedRequest("too many trailer lines")
