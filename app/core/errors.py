"""Domain errors and the one handler that turns every error into the spec's JSON shape."""

import logging
from dataclasses import dataclass

from flask import jsonify
from redis.exceptions import RedisError
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from app.core.observability import current_request_id

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    431: "headers_too_large",
    500: "internal_error",
    503: "service_unavailable",
}


class DomainError(Exception):
    """A broken rule, answered as ``{"error": {status, code, message, ...}}``."""

    status = 400
    code = "bad_request"
    message = "The request breaks a rule."
    sends_retry_after = False  # every raise of it sets Retry-After, so the document shows the header

    def __init__(self, message=None, *, fields=None, extra=None, headers=None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.fields = fields
        self.extra = extra or {}
        self.headers = headers or {}

    @classmethod
    def when(cls, note: str) -> "ErrorCase":
        """This error as an operation documents it, with what it means there: ``TooManyRequests.when("over ...")``."""
        return ErrorCase(cls, note)


@dataclass(frozen=True)
class ErrorCase:
    """An error an operation can answer (``errors=`` of ``Blueprint.operation``), and what it means there."""

    error: type[DomainError]
    note: str = ""


class ValidationFailed(DomainError):
    status, code, message = 422, "validation_error", "The request is not valid."


class InvalidCursor(DomainError):
    status, code, message = 400, "invalid_cursor", "The cursor is not one this API issued."


class NotFound(DomainError):
    status, code, message = 404, "not_found", "Nothing is at this address."


class UserNotFound(NotFound):
    code, message = "user_not_found", "No user has this id."


class PostNotFound(NotFound):
    code, message = "post_not_found", "No post has this id."


class ConversationNotFound(NotFound):
    code, message = "conversation_not_found", "No conversation of yours has this id."


class MessageNotInConversation(DomainError):
    status, code, message = 422, "message_not_in_conversation", "No message of this conversation has this id."


class EmailTaken(DomainError):
    status, code, message = 409, "email_taken", "An account already uses this email."


class InvalidCredentials(DomainError):
    status, code, message = 401, "invalid_credentials", "The email or password is wrong."


class TooManyFailedLogins(DomainError):
    status, code = 429, "too_many_failed_logins"
    message = "Too many failed logins for this account or from this address: wait before trying again."
    sends_retry_after = True


class TokenUserGone(DomainError):
    status, code, message = 401, "invalid_token", "The token's user no longer exists."


class NotAuthor(DomainError):
    status, code, message = 403, "not_author", "Only the author may change this post."


class CannotLikeOwnPost(DomainError):
    status, code, message = 403, "cannot_like_own_post", "You cannot like your own post."


class EmailUndeliverable(DomainError):
    status, code = 403, "email_undeliverable"
    message = "Your email address cannot receive mail: change it to write again."


class PhoneTaken(DomainError):
    status, code, message = 409, "phone_taken", "Another account already uses this phone number."


class ResendTooSoon(DomainError):
    status, code, message = 429, "resend_too_soon", "A code was sent moments ago: wait before asking again."
    sends_retry_after = True


class TooManyCodes(DomainError):
    status, code, message = 429, "too_many_codes", "Too many codes for this phone this hour: try later."
    sends_retry_after = True


class RateLimited(DomainError):
    status, code, message = 429, "rate_limited", "Too many requests from this address: try later."
    sends_retry_after = True


class TooManyRequests(DomainError):
    """A write limit of SPEC 3 (``app.core.limits.WRITE_LIMITS``)."""

    status, code, message = 429, "too_many_requests", "Too many writes of this kind: wait before trying again."
    sends_retry_after = True


class InvalidCode(DomainError):
    status, code, message = 400, "invalid_code", "The code is wrong."


class TooManyAttempts(DomainError):
    status, code, message = 429, "too_many_attempts", "Too many wrong codes: this code is burned, ask for a new one."


class CodeExpired(DomainError):
    status, code, message = 400, "code_expired", "There is no live code for this phone: ask for a new one."


class EmailCodeExpired(CodeExpired):
    message = "There is no live code for this address: ask for a new one."


class TooManyEmailCodes(TooManyCodes):
    message = "Too many codes for this address this hour: try later."


class NoEmail(DomainError):
    status, code, message = 409, "no_email", "This account has no email address: add one with PATCH /api/v1/users/me."


class EmailAlreadyConfirmed(DomainError):
    status, code, message = 409, "email_already_confirmed", "This account's email address is confirmed already."


class MailOutboxDisabled(NotFound):
    code, message = "not_found", "The mail outbox exists only while MAIL_BACKEND=outbox."


class InviteCodeNotFound(NotFound):
    code, message = "invite_code_not_found", "No user has this invite code."


class InviteAlreadyActivated(DomainError):
    status, code, message = 409, "invite_already_activated", "You have already activated an invite code."


class OwnInviteCode(DomainError):
    status, code, message = 422, "own_invite_code", "You cannot activate your own invite code."


class ReferralCycle(DomainError):
    status, code, message = 422, "referral_cycle", "The code's owner was referred by you: referrals cannot go in a circle."


class SmsOutboxDisabled(NotFound):
    code, message = "not_found", "The SMS outbox exists only while SMS_BACKEND=outbox."


class InvalidTicket(DomainError):
    status, code, message = 401, "invalid_ticket", "The ticket is unknown, used or expired: ask for a new one."


class TooManyStreams(DomainError):
    status, code, message = 429, "too_many_streams", "Too many event streams are open for this user: close one."


class ServiceUnavailable(DomainError):
    status, code, message = 503, "service_unavailable", "A service Agora depends on is unreachable: try again."


class NotReady(DomainError):
    status, code = 503, "not_ready"
    sends_retry_after = True


def error_response(status, code, message, *, fields=None, extra=None, headers=None):
    """The one JSON error body of SPEC 3, with the request's id (``request_id``) to quote to an operator."""
    body = {"status": status, "code": code, "message": message}
    if fields:
        body["fields"] = fields
    body.update(extra or {})
    request_id = current_request_id()
    if request_id is not None:
        body["request_id"] = request_id
    response = jsonify(error=body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_domain_error(error: DomainError):
    return error_response(error.status, error.code, error.message,
                          fields=error.fields, extra=error.extra, headers=error.headers)


def handle_http_exception(error: HTTPException):
    """Werkzeug's errors, and webargs' validation aborts (which carry ``data``)."""
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    headers = dict(data.get("headers") or {})
    if error.code == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(sorted(error.valid_methods))  # flask-smorest's handler drops it
    if error.code == 400 and messages == {"json": ["Invalid JSON body."]}:
        return error_response(400, "malformed_json", "The request body is not valid JSON.")
    if messages:
        return error_response(422, "validation_error", "The request is not valid.",
                              fields=flatten_messages(messages), headers=headers)
    code = HTTP_CODES.get(error.code, "http_error")
    return error_response(error.code, code, error.description or error.name, headers=headers)


def handle_unavailable(error: Exception):
    """A dependency went away mid-request: tell the client to retry, not that it erred."""
    log.error("dependency unavailable: %s: %s", type(error).__name__, error)
    return error_response(503, "service_unavailable", "A service Agora depends on is unreachable; try again.",
                          headers={"Retry-After": "5"})


def handle_data_error(error: DataError):
    """A value the database refused (out of range, malformed) that validation let through."""
    log.warning("database refused a value: %s", error.orig)
    return error_response(422, "validation_error", "A value is out of range or malformed.")


def handle_database_error(error: DBAPIError):
    """A driver error: the connection dropped (503), or a bug (500)."""
    return handle_unavailable(error) if error.connection_invalidated else handle_unexpected(error)


def handle_unexpected(error: Exception):
    log.exception("unhandled error")
    return error_response(500, "internal_error", "Something went wrong on our side.")


def flatten_messages(messages) -> dict:
    """webargs nests messages by location (``{"json": {...}}``): merge them into one field map."""
    if isinstance(messages, list):
        return {"_schema": messages}
    fields = {}
    for location, value in messages.items():
        if isinstance(value, dict):
            fields.update(value)
        else:
            fields.setdefault("_schema", []).extend(value if isinstance(value, list) else [value])
    return fields


def register_error_handlers(app):
    """Route every error the app can raise to the spec's JSON shape."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(OperationalError, handle_unavailable)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(PoolTimeout, handle_unavailable)  # every pooled connection is busy
    app.register_error_handler(RedisError, handle_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
