"""Mailed codes: send one to an address for a purpose and check it (the API other domains build on),
deliver it in the background; confirming the account's address with one; and the dev outbox.

For other domains: ``send_email_code(email, purpose)`` and ``check_email_code(email, purpose, code)``,
with ``purpose`` one of ``app.mail.rules.PURPOSES`` (``confirm``, ``reset``). A code of one purpose
never answers for another, nor for another address.
"""

import logging

from flask import current_app
from sqlalchemy import select, update

from app.core.database import utcnow
from app.core.errors import (DomainError, EmailAlreadyConfirmed, EmailCodeExpired, MailOutboxDisabled, NoEmail,
                             ServiceUnavailable, TokenUserGone)
from app.core.jobs import enqueue
from app.core.retries import Outcome
from app.extensions import db
from app.mail import models
from app.mail.backends import configured_backend
from app.mail.rules import PURPOSES, message, new_code
from app.profile_checks.services import CheckTarget, enrichment_configured, queue_profile_checks
from app.users.models import User

log = logging.getLogger(__name__)


def send_email_code(email: str, purpose: str) -> dict:
    """Issue a 6-digit code for ``purpose`` to ``email`` and queue its mail; the code is never returned.

    Returns ``{email, expires_in, resend_after}``; a new code replaces the live one of its purpose.
    429 ``resend_too_soon`` or ``too_many_codes`` (with ``Retry-After``); 503 when the mail could not be queued.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"no mailed code has the purpose {purpose!r}")
    code = new_code()
    models.store_code(email, purpose, code)
    if not enqueue(deliver_mail_attempt, email, purpose, models.seal(code)):
        models.withdraw_code(email, purpose)
        raise ServiceUnavailable("Mail delivery is unavailable right now: try again shortly.",
                                 headers={"Retry-After": "5"})
    config = current_app.config
    return {"email": email, "expires_in": config["EMAIL_CODE_TTL_SECONDS"],
            "resend_after": config["EMAIL_CODE_RESEND_SECONDS"]}


def check_email_code(email: str, purpose: str, code: str) -> None:
    """Spend ``email``'s live code for ``purpose`` if ``code`` is it (single use).

    Else 400 ``invalid_code`` with ``attempts_left``, 429 ``too_many_attempts`` (the
    EMAIL_CODE_MAX_ATTEMPTS-th wrong one burns the code) or 400 ``code_expired`` (no live code).
    """
    models.consume_code(email, purpose, code)


def deliver_mail_attempt(email: str, purpose: str, sealed_code: str, *, attempt: int = 1) -> Outcome | None:
    """Hand a code's mail to the mail backend (one attempt of the ``tasks.send_mail_code`` task).

    None when there is nothing to send: the sealed code is not ours or too old, or a newer code
    has replaced it (the person is waiting for that one).
    """
    code = models.unseal(sealed_code)
    if code is None or not models.is_live(email, purpose, code):
        log.info("mail_skipped purpose=%s reason=code_no_longer_live", purpose)
        return None
    subject, body = message(purpose, code, current_app.config["EMAIL_CODE_TTL_SECONDS"])
    return configured_backend().send(email, subject, body, attempt)


def mail_confirmation_code(email: str) -> bool:
    """Send a new address its confirmation code after the commit that set it; False (logged) if it could not be.

    Signup and an email change are saved regardless: the person asks for another code with
    ``POST /api/v1/auth/email/code``.
    """
    try:
        send_email_code(email, "confirm")
    except DomainError as refused:
        log.warning("confirmation_code_not_sent reason=%s", refused.code)
        return False
    return True


def request_confirmation_code(user_id: int) -> dict:
    """Send the account's unconfirmed address a new confirmation code: ``{email, expires_in, resend_after}``."""
    return send_email_code(_unconfirmed_email(user_id), "confirm")


def confirm_email(user_id: int, code: str) -> None:
    """Prove the account's address with its code: ``email_confirmed`` becomes true and enrichment is queued.

    The update is conditional on the address the code was checked for: if the email changed
    meanwhile, nothing is confirmed (400 ``code_expired``: the new address has a code of its own).
    """
    email = _unconfirmed_email(user_id)
    check_email_code(email, "confirm", code)
    values = confirmation_values()
    confirmed = db.session.execute(
        update(User).where(User.id == user_id, User.email == email, User.email_confirmed.is_(False))
        .values(**values).execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if confirmed != 1:
        raise EmailCodeExpired()
    # Verification runs on its own since the address was set: only enrichment is queued here.
    queue_profile_checks(CheckTarget(user_id, email, "confirmed", values["enrichment_status"]))


def confirmation_values() -> dict:
    """What proving an address writes, in the update that proves it: confirmed, and enrichment started (or skipped)."""
    enrichment_status = "pending" if enrichment_configured(current_app.config) else "skipped"
    return {"email_confirmed": True, "enrichment_status": enrichment_status, "enrichment_status_reason": None,
            "checks_queued_at": utcnow()}


def _unconfirmed_email(user_id: int) -> str:
    row = db.session.execute(select(User.email, User.email_confirmed).where(User.id == user_id)).first()
    db.session.rollback()  # no transaction held while a code is checked or queued
    if row is None:
        raise TokenUserGone()
    if row.email is None:
        raise NoEmail()
    if row.email_confirmed:
        raise EmailAlreadyConfirmed()
    return row.email


def outbox(email: str) -> list[dict]:
    """The messages the outbox backend sent to ``email``, newest first; 404 under other backends."""
    if current_app.config["MAIL_BACKEND"] != "outbox":
        raise MailOutboxDisabled()
    return models.outbox_messages(email)
