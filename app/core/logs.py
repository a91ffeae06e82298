"""Log lines: the request id on every one, as text (the default) or one JSON object per line (LOG_FORMAT=json)."""

import logging
import sys
from datetime import datetime, timezone

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from app.core.observability import current_request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Loggers of the server around the app that write through handlers of their own.
SERVER_LOGGERS = ("gunicorn.error",)
# Celery's "Task ... received" record carries the task's arguments (emails, phones) as extra ``data``:
# the text line never prints them, and neither does the JSON one.
SKIPPED_EXTRAS = (*RESERVED_ATTRS, "data")


def masked(recipient: str) -> str:
    """A phone number or an address as production logs show it: enough to tell lines apart, not to contact anyone
    (``…67``, ``a…@example.com``)."""
    local, at, domain = recipient.rpartition("@")
    return f"{local[:1]}…@{domain}" if at else f"…{recipient[-2:]}"


class RequestIdFilter(logging.Filter):
    """Stamp each record with the id of the request (or task run) that logged it; ``-`` outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id() or "-"
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object per line: timestamp, level, logger, message, request_id, process, then the record's extras.

    The access line adds method, route, status and duration_ms; a provider call adds provider,
    endpoint, status, latency_ms and attempt; an exception adds exc_info.
    """

    def __init__(self):
        super().__init__(["levelname", "name", "message", "request_id", "process"],
                         rename_fields={"levelname": "level", "name": "logger"},
                         reserved_attrs=SKIPPED_EXTRAS, json_ensure_ascii=False)

    def add_fields(self, log_data, record, message_dict):
        log_data["timestamp"] = datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
        super().add_fields(log_data, record, message_dict)
        if log_data.get("request_id") == "-":
            log_data["request_id"] = None


def formatter(log_format: str) -> logging.Formatter:
    return JsonLogFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is written (as logging's last resort does)."""

    def __init__(self):
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def attach(handler: logging.Handler, log_format: str) -> logging.Handler:
    """Give ``handler`` Agora's format and the request id filter (once)."""
    handler.setFormatter(formatter(log_format))
    if not any(isinstance(existing, RequestIdFilter) for existing in handler.filters):
        handler.addFilter(RequestIdFilter())
    return handler


def configure_logging(level: str, log_format: str) -> None:
    """Send the root logger's lines to stderr in ``log_format``, as ``logging.basicConfig`` would.

    As with basicConfig, a root logger that already has handlers of someone else's (pytest's, a
    host application's) is left to them. With json, gunicorn's own lines are JSON too.
    """
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if getattr(handler, "agora", False)]
    if not root.handlers:
        handler = StderrHandler()
        handler.agora = True
        root.addHandler(handler)
        ours = [handler]
    if ours:
        root.setLevel(level)
    for handler in ours:
        attach(handler, log_format)
    if log_format == "json":
        for name in SERVER_LOGGERS:
            for handler in logging.getLogger(name).handlers:
                attach(handler, log_format)
