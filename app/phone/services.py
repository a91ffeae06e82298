"""Phone sign-in: ask for a code, deliver it by SMS in the background, verify it; and the dev outbox."""

import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.tokens import issue_tokens
from app.core import metrics
from app.core.logs import masked
from app.core.errors import DomainError, PhoneTaken, ServiceUnavailable, SmsOutboxDisabled
from app.core.jobs import enqueue
from app.core.retries import Outcome
from app.extensions import db
from app.phone import models
from app.phone.backends import configured_backend
from app.phone.crypto import code_digest, seal, unseal
from app.phone.rules import message_text, new_code, normalize_phone
from app.users.models import User
from app.users.services import add_user

log = logging.getLogger(__name__)


def phone_number(raw: str) -> str:
    """``raw`` in E.164, read with PHONE_DEFAULT_REGION; 422 if it is not a valid number."""
    return normalize_phone(raw, current_app.config["PHONE_DEFAULT_REGION"])


def request_code(*, phone: str, client_address: str) -> dict:
    """Issue a sign-in code for ``phone`` and queue its delivery; the code is never returned."""
    try:
        phone = phone_number(phone)
        code = new_code()
        models.store_code(phone, code_digest(phone, code), client_address)
        if not enqueue(deliver_code_attempt, phone, seal(code)):
            models.withdraw_code(phone)
            raise ServiceUnavailable("SMS delivery is unavailable right now: try again shortly.",
                                     headers={"Retry-After": "5"})
    except DomainError as refused:
        metrics.PHONE_CODES_REFUSED.labels("issue", refused.code).inc()
        raise
    metrics.PHONE_CODES_ISSUED.inc()
    config = current_app.config
    return {"phone": phone, "expires_in": config["PHONE_CODE_TTL_SECONDS"],
            "resend_after": config["PHONE_CODE_RESEND_SECONDS"]}


def deliver_code_attempt(phone: str, sealed_code: str, *, attempt: int = 1) -> Outcome | None:
    """Hand a code to the SMS backend (one attempt of the ``tasks.send_sms_code`` task).

    None when there is nothing to send: the sealed code is not ours or too old, or a newer
    code has replaced it (the person is waiting for that one).
    """
    code = unseal(sealed_code)
    if code is None or not models.is_live(phone, code_digest(phone, code)):
        log.info("sms_skipped phone=%s reason=code_no_longer_live", masked(phone))
        metrics.PHONE_CODES_UNDELIVERED.labels(current_app.config["SMS_BACKEND"], "replaced").inc()
        return None
    return configured_backend().send(phone, message_text(code, current_app.config["PHONE_CODE_TTL_SECONDS"]), attempt)


def verify_code(*, phone: str, code: str, client_address: str, current: User | None = None) -> dict:
    """Accept a code: log the phone's user in, create them (``created``), or add the phone to ``current``.

    The code is checked first: who owns a phone is told only to someone who proved they hold it.
    """
    try:
        verified = _verify_code(phone, code, client_address, current)
    except DomainError as refused:
        metrics.PHONE_CODES_REFUSED.labels("verify", refused.code).inc()
        raise
    metrics.PHONE_CODES_VERIFIED.inc()
    return verified


def _verify_code(phone: str, code: str, client_address: str, current: User | None) -> dict:
    phone = phone_number(phone)
    models.spend_code(phone, code, client_address)
    owner = db.session.scalars(select(User).where(User.phone == phone)).first()
    if current is not None and owner is not None and owner.id != current.id:
        raise PhoneTaken()
    created = False
    if current is not None:
        user = current
        if user.phone != phone:
            user.phone = phone
            _commit_phone()
    elif owner is not None:
        user = owner
    else:
        user, created = _phone_user(phone)
    return {"user": user, "created": created, **issue_tokens(user.id)}


def _phone_user(phone: str) -> tuple[User, bool]:
    """Create the user of a phone never seen before; if a concurrent verify just did, log that one in."""
    user = User(phone=phone, email_status="skipped", enrichment_status="skipped")
    try:
        add_user(user)
        db.session.commit()
        return user, True
    except PhoneTaken:
        db.session.rollback()
        return db.session.scalars(select(User).where(User.phone == phone)).one(), False


def _commit_phone() -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise PhoneTaken() from None


def outbox(phone: str) -> list[dict]:
    """The messages the outbox backend sent to ``phone``, newest first; 404 under other backends."""
    if current_app.config["SMS_BACKEND"] != "outbox":
        raise SmsOutboxDisabled()
    return models.outbox_messages(phone_number(phone))
