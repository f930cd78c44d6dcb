"""How a service logs: the one ``LOGGING`` configuration every service runs with
(``logging_config``, applied by ``service_runtime.serve``; a config.yaml only maps
``LOG_FORMAT`` and ``LOG_LEVEL``), its line format and its batched output.

A JSON line (``LOG_FORMAT=json``) always has ``time`` (ISO 8601, UTC), ``level``,
``logger``, ``service`` and ``message``; a line logged while a worker runs also has
``method``, ``request_id``, ``duration_ms`` (since the worker started; on its call line,
its duration) and, on the worker's call line, ``outcome`` (``ok`` or the error's code)
and, for an HTTP route that answered, ``status``. The worker's context is set by
``service_runtime.calls``.

**Output in batches.** ``logging.StreamHandler`` writes and flushes each record on its
own: a system call per line, and under eventlet a blocking one, so the whole process
(every green thread) waits on it; profiled under load it was the largest single cost of
the gateway (about a sixth of its CPU). ``BatchedStreamHandler`` formats each record at
once (so a line says what was true when it was logged) and writes what has gathered
when the batch is full, when a record of level WARNING or above arrives (errors are
never held back), or at most ``FLUSH_SECONDS`` after the first line of a batch. On a
normal exit ``logging.shutdown`` flushes it; a process killed outright loses at most the
last ``FLUSH_SECONDS`` of INFO lines.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import IO, Any

from pythonjsonlogger.json import JsonFormatter

from service_runtime.settings import Setting, one_of

LOG_FORMAT = Setting(
    "LOG_FORMAT",
    one_of("text", "json"),
    "text",
    "text: human-readable lines; json: one object a line",
)
LOG_LEVEL = Setting("LOG_LEVEL", str, "INFO", "level of the root logger")


@dataclass
class CallContext:
    """The worker a log line is written in: one timer, and its outcome once it has one."""

    service: str
    method: str
    request_id: str | None
    started: float  # time.perf_counter()
    elapsed: float | None = None  # seconds, once the worker has a result
    outcome: str | None = None  # "ok" or the error's code, likewise
    status: int | None = None  # an HTTP entrypoint's response status

    def seconds(self) -> float:
        """The worker's duration once it has a result; until then, the time so far."""
        return time.perf_counter() - self.started if self.elapsed is None else self.elapsed


# Each eventlet green thread (so each worker) has its own context.
_current_call: ContextVar[CallContext | None] = ContextVar("current_call", default=None)
# Lines outside any worker (start-up, connections) name the service this process runs.
_process_service = ""


def enter_call(call: CallContext) -> None:
    _current_call.set(call)


def serving(service: str) -> None:
    """The service this process runs (its container's name), for lines outside workers."""
    global _process_service
    _process_service = service


class ServiceJsonFormatter(JsonFormatter):
    """python-json-logger's formatter plus the service and worker fields."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        call = _current_call.get()
        if call is None:
            log_data.setdefault("service", _process_service)
            return
        log_data["service"] = call.service
        log_data["method"] = call.method
        log_data["request_id"] = call.request_id
        log_data["duration_ms"] = round(call.seconds() * 1000, 3)
        if call.outcome is not None:
            log_data["outcome"] = call.outcome
        if call.status is not None:
            log_data["status"] = call.status


# user:password@ in a URL. Libraries mask the first URL they log, not the others: nameko
# logged "Error connecting to broker at pyamqp://u:********@rabbitmq1/;pyamqp://u:<the
# password>@rabbitmq2/..." for an AMQP_URI naming a cluster's nodes.
URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]+@")


def without_passwords(text: str) -> str:
    """``text`` with the password of every URL in it masked."""
    return URL_PASSWORD.sub(r"\1********@", text)


FLUSH_SECONDS = 0.2
BATCH_LINES = 256


class BatchedStreamHandler(logging.StreamHandler):
    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__(stream)
        self.pending: list[str] = []
        self.timer: threading.Timer | None = None

    def handle(self, record: logging.LogRecord) -> bool:
        # logging's, without taking the handler's lock for every line: ``emit`` only
        # formats and appends (no I/O, nothing that yields to another green thread);
        # ``flush``, which writes, still takes it.
        if not self.filter(record):
            return False
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:  # noqa: BLE001 - logging's own policy: report, never raise
            self.handleError(record)
            return
        if "://" in line:
            line = without_passwords(line)
        self.pending.append(line)
        if len(self.pending) >= BATCH_LINES or record.levelno >= logging.WARNING:
            self.flush()
        elif self.timer is None:
            # Under eventlet's monkey-patch this timer is a green thread.
            self.timer = threading.Timer(FLUSH_SECONDS, self.flush)
            self.timer.daemon = True
            self.timer.start()

    def flush(self) -> None:
        self.acquire()
        try:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            text, self.pending = "".join(self.pending), []
            if text and self.stream is not None:
                self.stream.write(text)
                self.stream.flush()
        finally:
            self.release()


def lean_records() -> None:
    """Log records without the fields no format here prints (thread, process, source line).

    Filling them is most of what a record costs: under eventlet ``current_thread()``
    is a green-thread lookup, and the source line is found by walking the stack, on
    every line; with a line per call that was about a tenth of a process's CPU. These
    are the switches the logging HOWTO's "Optimization" section names.
    """
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None  # the documented way to skip the stack walk


def formatter(log_format: str | None = None) -> logging.Formatter:
    """The formatter factory of ``logging_config``: ``log_format`` is a ``LOG_FORMAT``."""
    lean_records()
    if LOG_FORMAT.read({LOG_FORMAT.key: log_format}) == "json":
        return ServiceJsonFormatter()
    return logging.Formatter()


def logging_config(config: dict[str, Any]) -> dict[str, Any]:
    """The ``LOGGING`` (``logging.config.dictConfig``) of every service, for ``config``."""
    return {
        "version": 1,
        "formatters": {"default": {"()": formatter, "log_format": LOG_FORMAT.read(config)}},
        "handlers": {"console": {"()": BatchedStreamHandler, "formatter": "default"}},
        "root": {"level": LOG_LEVEL.read(config).upper(), "handlers": ["console"]},
    }
