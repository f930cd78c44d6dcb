"""``LOG_FORMAT``: human-readable log lines (``text``, the default) or one JSON object
per line (``json``), chosen in each service's ``LOGGING`` config:

    formatters:
      default:
        (): service_runtime.logformat.formatter
        log_format: ${LOG_FORMAT}

A JSON line always has ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``service`` and
``message``; a line logged while a worker runs also has ``method``, ``request_id``,
``duration_ms`` (since the worker started: on the worker's last line, its duration) and,
once the entrypoint method has returned or raised, ``outcome`` (``ok`` or the error's
code) and, for an HTTP route that answered, ``status``. The worker's context is set by
``service_runtime.metrics.EntrypointMetrics``.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from service_runtime.settings import Setting

FORMATS = ("text", "json")


def log_format_name(raw: Any) -> str:
    name = str(raw).strip().lower()
    if name not in FORMATS:
        raise ValueError(f"must be one of {', '.join(FORMATS)}")
    return name


LOG_FORMAT = Setting(
    "LOG_FORMAT", log_format_name, "text", "text: human-readable lines; json: one object a line"
)


@dataclass
class CallContext:
    """The worker a log line is written in."""

    service: str
    method: str
    request_id: str | None
    started: float  # time.perf_counter()
    outcome: str | None = None
    status: int | None = None  # an HTTP entrypoint's response status


# Each eventlet green thread (so each worker) has its own context.
_current_call: ContextVar[CallContext | None] = ContextVar("current_call", default=None)
# Lines outside any worker (start-up, connections) name the service this process runs.
_process_service = ""


def enter_call(call: CallContext) -> None:
    """Tag the log lines of the running worker with ``call``."""
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
        log_data["duration_ms"] = round((time.perf_counter() - call.started) * 1000, 3)
        if call.outcome is not None:
            log_data["outcome"] = call.outcome
        if call.status is not None:
            log_data["status"] = call.status


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
    """The ``LOGGING`` config's formatter factory: ``log_format`` is ``${LOG_FORMAT}``."""
    lean_records()
    if LOG_FORMAT.read({LOG_FORMAT.key: log_format}) == "json":
        return ServiceJsonFormatter()
    return logging.Formatter()
