"""Running the profile checks: one attempt per call, recorded only while it is still due.

An attempt reads the user, ends its transaction before calling the provider (so a slow
provider never holds a database lock), and records a final answer with a conditional
UPDATE: only if the user still has the same email and the check is still pending. Running
an attempt twice, or again after a worker died mid-call, therefore records one result.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.sql.functions import coalesce

from app.core.database import utcnow
from app.events import models as events
from app.extensions import db
from app.integrations.clearbit import ClearbitClient
from app.integrations.http import ProviderUnreachable
from app.integrations.hunter import HunterClient
from app.core.jobs import enqueue
from app.profile_checks.rules import enrichment_outcome, verification_outcome
from app.core.retries import Outcome, retry_policy
from app.users.models import User

log = logging.getLogger(__name__)

# Failures worth trying again later (the month's quota renews); the rest need a person to act.
RESUMABLE_REASONS = ("quota_exceeded",)


def hunter_client() -> HunterClient | None:
    config = current_app.config
    if not config["HUNTER_API_KEY"]:
        return None
    return HunterClient(base_url=config["HUNTER_BASE_URL"], api_key=config["HUNTER_API_KEY"],
                        timeout=config["HUNTER_TIMEOUT_SECONDS"])


def enrichment_client() -> HunterClient | ClearbitClient | None:
    """The client of ENRICHMENT_PROVIDER, or None when it has no key."""
    config = current_app.config
    if config["ENRICHMENT_PROVIDER"] == "clearbit" and config["CLEARBIT_API_KEY"]:
        return ClearbitClient(base_url=config["CLEARBIT_BASE_URL"], api_key=config["CLEARBIT_API_KEY"],
                              timeout=config["CLEARBIT_TIMEOUT_SECONDS"])
    if config["ENRICHMENT_PROVIDER"] == "hunter":
        return hunter_client()
    return None


def _still_due(user_id: int, email: str, status_column) -> bool:
    """True while the user has this email and the check is pending; ends the read's transaction."""
    due = db.session.execute(
        select(User.id).where(User.id == user_id, User.email == email, status_column == "pending")
    ).first() is not None
    db.session.rollback()  # release the connection (and SQLite's lock) before any network call
    return due


def _record(user_id: int, email: str, status_column, values: dict) -> bool:
    """Write a final result if the check is still pending for this email, and tell the user's live pages;
    True if it was written."""
    written = db.session.execute(
        update(User).where(User.id == user_id, User.email == email, status_column == "pending").values(**values)
        .returning(User.email_status, User.enrichment_status).execution_options(synchronize_session=False)
    ).first()
    if written is not None:
        events.publish_after_commit(events.profile_updated(user_id, written.email_status, written.enrichment_status))
    db.session.commit()
    return written is not None


def _ask(user_id: int, email: str, status_column, client, call, decide, *, no_client_reason: str) -> Outcome | None:
    """An attempt's shared shape: still due? then ask the provider and decide. None when nothing is due."""
    if not _still_due(user_id, email, status_column):
        return None
    if client is None:
        return Outcome(status="skipped", reason=no_client_reason)
    try:
        answer = call(client)
    except ProviderUnreachable as unreachable:
        answer = unreachable
    return decide(client, answer)


def verify_email_attempt(user_id: int, email: str, *, attempt: int = 1) -> Outcome | None:
    """One call to Hunter's Email Verifier; None when there was nothing (left) to do."""
    outcome = _ask(
        user_id, email, User.email_status, hunter_client(),
        call=lambda client: client.verify_email(email, attempt=attempt),
        decide=lambda client, answer: verification_outcome(answer, attempt, retry_policy()),
        no_client_reason="no_hunter_api_key",
    )
    if outcome is not None and outcome.final:
        _record(user_id, email, User.email_status, {
            "email_status": outcome.status, "email_status_reason": outcome.reason,
            "email_verification": outcome.details,
        })
        log.info("email_verification user_id=%s status=%s reason=%s", user_id, outcome.status, outcome.reason)
    return outcome


def enrich_user_attempt(user_id: int, email: str, *, attempt: int = 1) -> Outcome | None:
    """One enrichment lookup; a found full name fills an empty ``name``. None when nothing was due."""
    outcome = _ask(
        user_id, email, User.enrichment_status, enrichment_client(),
        call=lambda client: client.combined_find(email, attempt=attempt),
        decide=lambda client, answer: enrichment_outcome(client.name, answer, attempt, retry_policy()),
        no_client_reason="no_enrichment_provider",
    )
    if outcome is not None and outcome.final:
        found = outcome.details if outcome.status == "found" else None
        values = {"enrichment_status": outcome.status, "enrichment_status_reason": outcome.reason,
                  "enrichment": found}
        if found and found.get("full_name"):
            values["name"] = coalesce(User.name, found["full_name"])
        _record(user_id, email, User.enrichment_status, values)
        log.info("enrichment user_id=%s status=%s reason=%s", user_id, outcome.status, outcome.reason)
    return outcome


def initial_check_statuses() -> dict:
    """A new email's columns: unconfirmed, verification ``pending`` where Hunter is configured, no enrichment yet.

    Enrichment waits for the address to be confirmed (``app.mail.services.confirm_email``):
    nobody is shown, or paid for, the person behind an address they have not proven they hold.
    """
    config = current_app.config
    return {
        "email_confirmed": False,
        "email_status": "pending" if config["HUNTER_API_KEY"] else "skipped",
        "enrichment_status": "unconfirmed",
        "email_status_reason": None, "enrichment_status_reason": None,
        "email_verification": None, "enrichment": None,
        "checks_queued_at": utcnow(),
    }


def restart_checks(user) -> None:
    """Give ``user`` (a User in the session) a new email's columns, every one written by the next flush.

    A check of the old address may have recorded its answer since the session read the row, and the ORM
    writes only what differs from what it read: flagging each column makes the UPDATE write them all.
    """
    for field, value in initial_check_statuses().items():
        setattr(user, field, value)
        flag_modified(user, field)


def enrichment_configured(config) -> bool:
    provider = config["ENRICHMENT_PROVIDER"]
    return (provider == "clearbit" and bool(config["CLEARBIT_API_KEY"])) or (
        provider == "hunter" and bool(config["HUNTER_API_KEY"]))


@dataclass(frozen=True)
class CheckTarget:
    """What queueing a user's checks needs, taken before the commit (after it, a row would be read again)."""

    id: int
    email: str
    email_status: str
    enrichment_status: str


def queue_profile_checks(user) -> None:
    """Queue the checks still pending for ``user``'s email, after the commit that made them due.

    ``user`` is a User or a CheckTarget. Each task gets the email it is for, so a check of an
    address the user has since changed records nothing. A check the broker could not take stays
    pending, and ``resume_profile_checks`` queues it again.
    """
    for status, attempt in ((user.email_status, verify_email_attempt), (user.enrichment_status, enrich_user_attempt)):
        if status == "pending":
            enqueue(attempt, user.id, user.email)


def resume_profile_checks() -> int:
    """Queue again every check still pending after CHECKS_RESUME_AFTER_SECONDS, and quota failures.

    Returns how many users were queued. Safe to run from several places at once: the
    attempts themselves record one result.
    """
    now = utcnow()
    stale_before = now - timedelta(seconds=current_app.config["CHECKS_RESUME_AFTER_SECONDS"])
    email_retry = and_(User.email_status == "failed", User.email_status_reason.in_(RESUMABLE_REASONS))
    enrichment_retry = and_(User.enrichment_status == "failed", User.enrichment_status_reason.in_(RESUMABLE_REASONS))
    users = db.session.scalars(
        select(User).where(
            User.email.is_not(None),
            or_(User.email_status == "pending", User.enrichment_status == "pending", email_retry, enrichment_retry),
            or_(User.checks_queued_at.is_(None), User.checks_queued_at < stale_before),
        ).order_by(User.id)
    ).all()
    for user in users:
        if user.email_status == "failed" and user.email_status_reason in RESUMABLE_REASONS:
            user.email_status, user.email_status_reason = "pending", None
        if user.enrichment_status == "failed" and user.enrichment_status_reason in RESUMABLE_REASONS:
            user.enrichment_status, user.enrichment_status_reason = "pending", None
        user.checks_queued_at = now
    db.session.commit()
    for user in users:
        queue_profile_checks(user)
    return len(users)
