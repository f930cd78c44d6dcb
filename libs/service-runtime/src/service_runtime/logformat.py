"""How a service logs: the one ``LOGGING`` configuration (``logging_config``; its JSON
fields: README, "API description, metrics and logs"), written in batches. A
``logging.StreamHandler`` flushes each line, a blocking system call that under eventlet
stalls every green thread (a sixth of the gateway's CPU under load). A batch is written
when full, on a WARNING or above, or ``FLUSH_SECONDS`` after its first line: a process
killed outright loses at most that much of INFO lines.
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
    """The worker a log line is written in (``service_runtime.calls`` sets it)."""

    service: str
    method: str
    request_id: str | None
    started: float  # time.perf_counter()
    elapsed: float | None = None  # seconds, once the worker has a result
    outcome: str | None = None  # "ok" or the error's code, likewise
    status: int | None = None  # an HTTP entrypoint's response status


# Each eventlet green thread (so each worker) has its own context; ``calls`` sets it.
CURRENT_CALL: ContextVar[CallContext | None] = ContextVar("current_call", default=None)
_process_service = ""


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
        call = CURRENT_CALL.get()
        if call is None:
            log_data.setdefault("service", _process_service)
            return
        log_data["service"] = call.service
        log_data["method"] = call.method
        log_data["request_id"] = call.request_id
        # Once the worker has a result, its duration; until then, the time so far.
        seconds = time.perf_counter() - call.started if call.elapsed is None else call.elapsed
        log_data["duration_ms"] = round(seconds * 1000, 3)
        if call.outcome is not None:
            log_data["outcome"] = call.outcome
        if call.status is not None:
            log_data["status"] = call.status


# user:password@ in a URL: nameko masks only the first URL of an AMQP_URI naming several.
URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]+@")

FLUSH_SECONDS = 0.2
BATCH_LINES = 256


class BatchedStreamHandler(logging.StreamHandler):
    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__(stream)
        self.pending: list[str] = []
        self.timer: threading.Timer | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:  # noqa: BLE001 - logging's own policy: report, never raise
            self.handleError(record)
            return
        if "://" in line:
            line = URL_PASSWORD.sub(r"\1********@", line)
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


def formatter(log_format: str | None = None) -> logging.Formatter:
    """The formatter factory of ``logging_config``: ``log_format`` is a ``LOG_FORMAT``."""
    # The HOWTO's "Optimization" switches: unprinted fields cost a tenth of the CPU.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None  # the documented way to skip the stack walk
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
