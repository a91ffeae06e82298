"""The user: one row per person, however they signed up."""

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, false, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import UTCDateTime, utcnow
from app.extensions import db

EMAIL_STATUSES = ("pending", "valid", "invalid", "risky", "unknown", "failed", "skipped")
# unconfirmed: nobody is enriched before proving they hold the address (SPEC 4).
ENRICHMENT_STATUSES = ("unconfirmed", "pending", "found", "not_found", "failed", "skipped")
# SPEC 4: a user whose address Hunter found undeliverable may read but not write.
UNDELIVERABLE = "invalid"


def may_write(email_status):
    """The writer rule as a condition on an ``email_status`` column, for every statement that writes.

    NULL (no such user) is not a writer either: the condition is then NULL, which selects nothing.
    """
    return email_status != UNDELIVERABLE


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("points >= 0", name="points_not_negative"),
        CheckConstraint(f"email_status IN {EMAIL_STATUSES}", name="email_status_known"),
        CheckConstraint(f"enrichment_status IN {ENRICHMENT_STATUSES}", name="enrichment_status_known"),
        # A user's referrals, newest first (keyset order); its prefix serves the referral count.
        Index("ix_users_referred_by_id_referred_at_id", "referred_by_id", "referred_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # True once the address's holder gave back the code mailed to it; a new address starts false.
    email_confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    name: Mapped[str | None] = mapped_column(String(100))
    email_status: Mapped[str] = mapped_column(String(16), default="skipped")
    enrichment_status: Mapped[str] = mapped_column(String(16), default="skipped")
    enrichment: Mapped[dict | None] = mapped_column(db.JSON)
    # Hunter's score and checks behind email_status; why a check ended failed/unknown/not_found.
    email_verification: Mapped[dict | None] = mapped_column(db.JSON)
    email_status_reason: Mapped[str | None] = mapped_column(String(120))
    enrichment_status_reason: Mapped[str | None] = mapped_column(String(120))
    # When the checks were last handed to the queue: `flask profile-checks resume` looks for stale ones.
    checks_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invite_code: Mapped[str] = mapped_column(String(6), unique=True)
    activated_invite_code: Mapped[str | None] = mapped_column(String(6))
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    referred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    points: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<User {self.id}>"


# One account per address whatever its case: most mail servers ignore it, and people type it loosely.
Index("uq_users_email_lower", func.lower(User.email), unique=True)
