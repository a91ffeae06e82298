"""Users: creation, lookup, the profile and its changes."""

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from app.auth.passwords import hash_password, verify_password
from app.auth.models import end_sessions, reserve_login_attempt
from app.auth.tokens import issue_tokens
from app.core.database import insert_ignoring_conflicts, one_statement, utcnow
from app.core.errors import (CodeExpired, DomainError, EmailTaken, EmailUndeliverable, InvalidCode,
                             InviteAlreadyActivated, InviteCodeNotFound, OwnInviteCode, PhoneTaken, ReferralCycle,
                             TokenUserGone, TooManyAttempts, UserNotFound, ValidationFailed)
from app.events import models as events
from app.extensions import db
from app.core.pagination import paginate
from app.phone.models import spend_code
from app.mail.services import mail_confirmation_code
from app.profile_checks.services import CheckTarget, queue_profile_checks, restart_checks
from app.posts.models import Post
from app.users.rules import email_key, new_invite_code, normalize_email, normalize_invite_code
from app.users.models import UNDELIVERABLE, User

PROFILE_REFERRALS = 100
INVITE_CODE_ATTEMPTS = 8
NO_FREE_INVITE_CODE = "Could not allocate an invite code; try again."
INVITE_LOCK_KEY = 0x6167_6F72_6100  # "agora" + 0: the advisory lock that serialises invite activations


def find_by_email(email: str) -> User | None:
    """The account whose address has ``email``'s key; lower() only ever meets the ASCII that storage allows."""
    return db.session.scalars(select(User).where(func.lower(User.email) == email_key(email))).first()


# The key is computed in Python, never lower()-ed by the database: so the failed-login windows, which
# hash the same key, count every spelling that reaches an account together (app.users.rules).
CREDENTIALS = select(User.__table__.c.id, User.__table__.c.password_hash).where(
    func.lower(User.__table__.c.email) == bindparam("key"))


def find_credentials(email: str):
    """``(id, password_hash)`` of the account with this email in any case, or None: one read, no transaction.

    Outside the session, so on SQLite a login never holds the write lock while its password is hashed.
    """
    with one_statement() as connection:
        return connection.execute(CREDENTIALS, {"key": email_key(email)}).first()


def add_user(user: User) -> User:
    """Insert ``user`` with a unique invite code, retrying on the rare collision; no commit."""
    for _ in range(INVITE_CODE_ATTEMPTS):
        user.invite_code = new_invite_code()
        try:
            with db.session.begin_nested():
                db.session.add(user)
            return user
        except IntegrityError:
            if user.email and find_by_email(user.email):
                raise EmailTaken() from None
            if user.phone and db.session.scalars(select(User.id).where(User.phone == user.phone)).first():
                raise PhoneTaken() from None
    raise DomainError(NO_FREE_INVITE_CODE)


def insert_email_user(**values) -> int:
    """Insert an email account in one statement with a fresh invite code, retrying on the rare collision; its id.

    ``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` in autocommit: no transaction, no ORM unit of
    work, one round trip. When it inserts nothing, a unique index refused the row: the email's
    (409 email_taken, also when a concurrent signup took it first) or the invite code's (a new code).
    """
    statement = insert_ignoring_conflicts(USERS).returning(USERS.c.id)
    for _ in range(INVITE_CODE_ATTEMPTS):
        with one_statement() as connection:
            user_id = connection.execute(statement, {**values, "invite_code": new_invite_code()}).scalar()
        if user_id is not None:
            return user_id
        if find_credentials(values["email"]) is not None:
            raise EmailTaken()
    raise DomainError(NO_FREE_INVITE_CODE)


def ensure_writer_status(email_status: str | None) -> None:
    """Why a write refused by ``may_write`` wrote nothing: the token's user is gone (None), or undeliverable."""
    if email_status is None:
        raise TokenUserGone()
    if email_status == UNDELIVERABLE:
        raise EmailUndeliverable()


USERS, POSTS = User.__table__, Post.__table__
REFERRER, REFERRAL = USERS.alias("referrer"), USERS.alias("referral")
POST_COUNT = (select(func.count()).select_from(POSTS).where(POSTS.c.author_id == USERS.c.id)
              .scalar_subquery().label("post_count"))
REFERRAL_COUNT = (select(func.count()).select_from(REFERRAL).where(REFERRAL.c.referred_by_id == USERS.c.id)
                  .scalar_subquery().label("referral_count"))
PROFILE = (select(USERS, REFERRER.c.name.label("referrer_name"), POST_COUNT, REFERRAL_COUNT)
           .outerjoin(REFERRER, REFERRER.c.id == USERS.c.referred_by_id).where(USERS.c.id == bindparam("user_id")))
LATEST_REFERRALS = (select(USERS.c.phone, USERS.c.email).where(USERS.c.referred_by_id == bindparam("user_id"))
                    .order_by(USERS.c.referred_at.desc(), USERS.c.id.desc()).limit(PROFILE_REFERRALS))
PUBLIC_PROFILE = select(USERS.c.id, USERS.c.name, USERS.c.points, USERS.c.created_at, POST_COUNT,
                        REFERRAL_COUNT).where(USERS.c.id == bindparam("user_id"))


def profile_of(user_id: int) -> dict:
    """The private profile of SPEC 5: the user with its counts and referrer, then its latest referrals."""
    with one_statement() as connection:
        row = connection.execute(PROFILE, {"user_id": user_id}).first()
        if row is None:
            raise TokenUserGone()
        referred = connection.execute(LATEST_REFERRALS, {"user_id": user_id}).all()
    referrer = {"id": row.referred_by_id, "name": row.referrer_name} if row.referred_by_id is not None else None
    return {"user": row, "referred_by": referrer, "referrals": [phone or email for phone, email in referred],
            "referral_count": row.referral_count, "post_count": row.post_count}


def public_profile(user_id: int) -> dict:
    """What anyone may see of a user: no email, no phone."""
    with one_statement() as connection:
        row = connection.execute(PUBLIC_PROFILE, {"user_id": user_id}).first()
    if row is None:
        raise UserNotFound()
    return {"user": row, "post_count": row.post_count, "referral_count": row.referral_count}


def update_profile(user: User, *, name=..., email=..., password=..., current_password=None, phone_code=None,
                   client_address: str = "") -> dict:
    """Change the name, email and/or password; a new email is verified and enriched again.

    A new email or password needs the account's holder, not only a token (``reauthenticate``);
    a name needs nothing more. A new password or email ends every session of the account: the
    answer carries fresh tokens for the caller.
    """
    if email is not ...:
        email = normalize_email(email)  # an address refused for its form costs no proof (a phone code is spent once)
    if email is not ... or password is not ...:
        reauthenticate(user, current_password=current_password, phone_code=phone_code, client_address=client_address)
    user_id = user.id  # after the commit the row would be read again to learn it
    email_changed = False
    sessions_end = password is not ...
    if password is not ...:
        user.password_hash = hash_password(password)
    if name is not ...:
        user.name = name
    if email is not ...:
        if email != user.email:
            if email.lower() != (user.email or "").lower():
                existing = find_by_email(email)
                if existing is not None and existing.id != user.id:
                    raise EmailTaken()
                email_changed = sessions_end = True
                restart_checks(user)
            user.email = email
    try:
        db.session.flush()  # a concurrently taken email fails here, before any session is ended
    except IntegrityError:
        db.session.rollback()
        raise EmailTaken() from None
    if sessions_end:
        end_sessions(user_id)  # before the commit too: with Redis down nothing changes (503)
    target = CheckTarget(user_id, user.email, user.email_status, user.enrichment_status)
    db.session.commit()
    # Then again: whatever a login or refresh minted against the old credential carries a lower generation.
    tokens = issue_tokens(user_id, generation=end_sessions(user_id)) if sessions_end else {}
    if email_changed:
        queue_profile_checks(target)
        mail_confirmation_code(target.email)
    return {**profile_of(user_id), **tokens}


REAUTH_REQUIRED = {
    "current_password": "Required to change your email or password: your current password.",
    "phone_code": "Required to change your email or password: a code sent to your phone "
                  "(POST /api/v1/auth/phone/code), as your account has no password.",
}
WRONG_PHONE_CODE = {"invalid_code": "Wrong code.", "too_many_attempts": "Wrong code, the last attempt: ask a new one.",
                    "code_expired": "No live code for your phone: ask a new one."}


def reauthenticate(user: User, *, current_password: str | None, phone_code: str | None, client_address: str) -> None:
    """Proof that whoever holds the token holds the account: its password or, for an account with none,
    a fresh code sent to its phone (spent by the phone code rules).

    A missing proof is 422 naming its field; a wrong one is 422 too, and counts in the account's
    failed-login windows as a wrong login password does (429 ``too_many_failed_logins`` past them).
    """
    field = "phone_code" if user.password_hash is None and user.phone else "current_password"
    proof = phone_code if field == "phone_code" else current_password
    if not proof:
        raise ValidationFailed(fields={field: [REAUTH_REQUIRED[field]]})
    attempt = reserve_login_attempt(user.email or user.phone, client_address)
    try:
        if field == "current_password":
            wrong = None if verify_password(user.password_hash, proof) else "Wrong password."
        else:
            wrong = _spent_phone_code(user.phone, proof, client_address)
    except Exception:
        attempt.release()  # the proof could not be checked (Redis, the database, the address window): not a failure
        raise
    if wrong is not None:
        raise ValidationFailed(fields={field: [wrong]})
    attempt.release()


def _spent_phone_code(phone: str, code: str, client_address: str) -> str | None:
    """Spend ``phone``'s live code if ``code`` is it: None; else why it is refused."""
    try:
        spend_code(phone, code, client_address)
    except (InvalidCode, TooManyAttempts, CodeExpired) as refused:
        left = refused.extra.get("attempts_left")
        return WRONG_PHONE_CODE[refused.code] + (f" Attempts left: {left}." if left else "")
    return None


def activate_invite_code(user: User, code: str) -> dict:
    """Activate someone else's invite code, once in a lifetime, never closing a referral cycle."""
    code = normalize_invite_code(code)
    owner = db.session.scalars(select(User).where(User.invite_code == code)).first()
    if owner is None:
        raise InviteCodeNotFound()
    if owner.id == user.id:
        raise OwnInviteCode()
    _serialize_activations()
    if _referred_down_from(user.id, owner.id):
        raise ReferralCycle()
    # Conditional: two concurrent activations by one user leave exactly one.
    activated = db.session.execute(
        update(User).where(User.id == user.id, User.activated_invite_code.is_(None))
        .values(activated_invite_code=code, referred_by_id=owner.id, referred_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if activated != 1:
        db.session.rollback()
        raise InviteAlreadyActivated()
    me = db.session.execute(select(User.name, User.phone, User.email, User.referred_at).where(User.id == user.id)).one()
    referral_count = db.session.scalar(select(func.count()).select_from(User).where(User.referred_by_id == owner.id))
    events.publish_after_commit(events.referral_created(owner.id, referral_view(user.id, me), referral_count))
    db.session.commit()
    db.session.refresh(user)
    return profile_of(user.id)


def referral_view(user_id: int, row) -> dict:
    """A referral as ``list_referrals`` lists it: who, how to reach them, when."""
    return {"user": {"id": user_id, "name": row.name}, "contact": row.phone or row.email, "referred_at": row.referred_at}


def _serialize_activations() -> None:
    """One activation at a time (PostgreSQL: a transaction-scoped advisory lock; SQLite writes are serial).

    Checking for a cycle and then writing is only safe if no other activation can add an
    edge in between: A activating B's code while B activates A's would otherwise both pass.
    Activations happen once per user, so serialising them costs nothing that matters.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": INVITE_LOCK_KEY})


def _referred_down_from(ancestor_id: int, user_id: int) -> bool:
    """True if ``user_id`` is ``ancestor_id`` or was referred by them, directly or down a chain."""
    chain = select(User.id, User.referred_by_id).where(User.id == user_id).cte("chain", recursive=True)
    referrer = aliased(User)
    chain = chain.union(select(referrer.id, referrer.referred_by_id).join(chain, referrer.id == chain.c.referred_by_id))
    return db.session.execute(select(chain.c.id).where(chain.c.id == ancestor_id).limit(1)).first() is not None


REFERRALS_OF_USER = (select(User.id, User.name, User.phone, User.email, User.referred_at)
                     .where(User.referred_by_id == bindparam("user_id")))


def list_referrals(user: User, *, limit: int, cursor: str | None) -> dict:
    """The users who activated my code, newest first."""
    rows, next_cursor = paginate(REFERRALS_OF_USER, kind=f"referrals:{user.id}", created_col=User.referred_at,
                                 tiebreak_col=User.id, limit=limit, cursor=cursor,
                                 key=lambda row: (row.referred_at, row.id), params={"user_id": user.id})
    items = [referral_view(row.id, row) for row in rows]
    return {"items": items, "next_cursor": next_cursor}
