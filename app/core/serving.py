"""gunicorn workers that answer an oversized request line or header section in the spec's JSON error shape.

gunicorn refuses those before the app runs and writes a hard-coded text/html page (benoitc/gunicorn#993):
these answer 414 ``uri_too_long`` and 431 ``headers_too_large`` as the API answers every error (SPEC 3),
and leave every other error to gunicorn. gunicorn 27 loads them by dotted path (``gunicorn.conf.py``).
"""

import json
import uuid

from gunicorn import util
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

# gunicorn's error -> (status, reason phrase, code, message).
LIMIT_ERRORS = (
    (LimitRequestLine, 414, "URI Too Long", "uri_too_long",
     "The request line is too long: shorten the URL (its query string above all)."),
    (LimitRequestHeaders, 431, "Request Header Fields Too Large", "headers_too_large",
     "The request's headers are too many or too large."),
)


def limit_error(exc: BaseException):
    """(status, reason, code, message) when ``exc`` is one of the limits answered here, else None."""
    for error_class, status, reason, code, message in LIMIT_ERRORS:
        if isinstance(exc, error_class):
            return status, reason, code, message
    return None


def json_error_response(status: int, reason: str, code: str, message: str, request_id: str) -> bytes:
    """A whole HTTP/1.1 response (the connection then closes, as gunicorn's own error page does)."""
    body = json.dumps({"error": {"status": status, "code": code, "message": message, "request_id": request_id}},
                      separators=(",", ":")).encode() + b"\n"
    head = (f"HTTP/1.1 {status} {reason}\r\n"
            "Connection: close\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"X-Request-ID: {request_id}\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Referrer-Policy: same-origin\r\n"
            "Cache-Control: no-store\r\n"
            "\r\n")
    return head.encode("latin-1") + body


class JsonLimitErrors:
    """A worker mixin: ``handle_error`` for the two limit errors only; gunicorn's for the rest."""

    def handle_error(self, req, client, addr, exc):
        answer = limit_error(exc)
        if answer is None:
            return super().handle_error(req, client, addr, exc)
        status, reason, code, message = answer
        request_id = uuid.uuid4().hex  # the app never saw the request: this id is the only one it gets
        address = (addr or ("", -1))[0]
        self.log.warning("Invalid request from ip=%s: %s (answered %s %s, request_id=%s)",
                         address, exc, status, code, request_id)
        try:
            util.write_nonblock(client, json_error_response(status, reason, code, message, request_id))
        except Exception:
            self.log.debug("Failed to send error message.")
        return None


class JsonErrorThreadWorker(JsonLimitErrors, ThreadWorker):
    """gunicorn's ``gthread`` worker (Agora's), answering 414 and 431 as JSON."""


class JsonErrorSyncWorker(JsonLimitErrors, SyncWorker):
    """gunicorn's ``sync`` worker, answering 414 and 431 as JSON."""
