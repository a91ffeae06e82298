"""Request ids and the per-request record: the id every log line carries, one access line, one histogram sample.

The request id lives in a context variable: set when a request starts (and, in a worker, when a task
run starts), read by the log filter (``app.core.logs``), by the error body (``app.core.errors``) and by
whoever queues background work (``tasks``), and cleared when the request ends.
"""

import logging
import re
import time
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, g, request

from app.core import metrics

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's id may look like: short, and nothing a log line or a header could be broken with.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# The route label of a request that matched no URL rule (a 404): never the raw path, which is unbounded.
UNMATCHED = "unmatched"

_request_id: ContextVar[str | None] = ContextVar("agora_request_id", default=None)
access_log = logging.getLogger("agora.access")


@contextmanager
def quiet_access_log():
    """No access line per request while inside: for the bot's own in-process server, which sends
    thousands of requests and reports them itself (its terminal shows progress bars, not a log)."""
    previous = access_log.level
    access_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        access_log.setLevel(previous)


def current_request_id() -> str | None:
    """The id of the request (or task run) this code runs for; None outside both."""
    return _request_id.get()


def bind_request_id(request_id: str | None):
    """Make ``request_id`` the current one; returns the token ``unbind_request_id`` takes."""
    return _request_id.set(request_id)


def unbind_request_id(token) -> None:
    _request_id.reset(token)


def new_request_id() -> str:
    return uuid.uuid4().hex


def incoming_request_id(value: str | None, trusted: bool) -> str:
    """The id a trusted proxy sent, when it is sane; else a new one (a client's own id is never believed)."""
    if trusted and value and SANE_REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


def route_of(url_rule) -> str:
    """The URL rule a request matched (``/api/v1/posts/<id:post_id>``), never its path."""
    return url_rule.rule if url_rule is not None else UNMATCHED


def register_request_observability(app: Flask) -> None:
    """Give every request an id, a response header carrying it, an access line and a latency sample.

    Registered before any other hook: a ``before_request`` that answers early (415, 413) stops the
    later ones, and this one must have run. Its ``after_request`` runs last, so the duration covers
    the other hooks too.
    """
    trusted = app.config["TRUSTED_PROXIES"] > 0

    @app.before_request
    def start_request():
        g.agora_started = time.perf_counter()
        _request_id.set(incoming_request_id(request.environ.get("HTTP_X_REQUEST_ID"), trusted))

    @app.after_request
    def finish_request(response):
        request_id = _request_id.get()
        if request_id is None:  # a response made without start_request (a test calling the hook)
            return response
        response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("agora_started")
        if started is not None:
            duration = time.perf_counter() - started
            route = route_of(request.url_rule)
            method, status = request.method, response.status_code
            metrics.observe_request(method, route, status, duration)
            if access_log.isEnabledFor(logging.INFO):
                duration_ms = round(duration * 1000, 2)
                access_log.info("%s %s %s %.2fms", method, route, status, duration_ms,
                                extra={"method": method, "route": route, "status": status,
                                       "duration_ms": duration_ms})
        return response

    @app.teardown_request
    def end_request(error=None):
        _request_id.set(None)  # a pooled thread carries no id into whatever it logs next
