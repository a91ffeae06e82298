"""Accounts: email signup and login, phone sign-in by SMS code, token refresh and logout."""

from flask import current_app
from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import ExpiredSignatureError, PyJWTError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.auth.limits import Hit, login_windows, reserve
from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.auth.phone_codes import (consume_code, issue_code, limit_verifications, normalize_phone, seal,
                                  withdraw_code)
from app.auth.tokens import access_token, issue_tokens, revoke
from app.errors import (EmailTaken, InvalidCredentials, PhoneTaken, ServiceUnavailable, TooManyFailedLogins,
                        ValidationFailed)
from app.extensions import db
from app.jobs import SEND_SMS_CODE, enqueue
from app.profile_checks.services import CheckTarget, initial_check_statuses, queue_profile_checks
from app.users.models import User
from app.users.services import add_user, email_in_use, find_credentials, normalize_email


def signup(*, email: str, password: str, name: str | None = None) -> tuple[int, dict]:
    """Create an email account, then queue its verification and enrichment; returns its id and tokens."""
    email = normalize_email(email)
    password_hash = hash_password(password)  # before any query: SQLite holds its write lock from the first
    if email_in_use(email):
        raise EmailTaken()
    statuses = initial_check_statuses()
    user = add_user(User(email=email, password_hash=password_hash, name=name, **statuses))
    target = CheckTarget(user.id, email, statuses["email_status"], statuses["enrichment_status"])
    db.session.commit()
    queue_profile_checks(target)
    return target.id, issue_tokens(target.id)


def login(*, email: str, password: str, client_address: str) -> tuple[int, dict]:
    """Exchange an email and password for the account's id and tokens; one answer for every kind of failure.

    Each attempt first reserves a failure in the login windows (429 past any of them, even
    with the right password); a success takes its reservation back, so only failures count.
    """
    email = normalize_email(email)
    attempt = reserve_login_attempt(email, client_address)
    try:
        account = find_credentials(email)
        valid = verify_password(account.password_hash if account else None, password)
    except Exception:
        attempt.release()  # the database failed, not the person
        raise
    if not valid:
        raise InvalidCredentials()
    attempt.release()
    if needs_rehash(account.password_hash):
        db.session.execute(update(User.__table__).where(User.__table__.c.id == account.id)
                           .values(password_hash=hash_password(password)))
        db.session.commit()
    return account.id, issue_tokens(account.id)


def reserve_login_attempt(email: str, client_address: str) -> Hit:
    """A place in every failed-login window, or 429 ``too_many_failed_logins`` with ``Retry-After``."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return Hit((), "")
    hit, wait = reserve(login_windows(email, client_address))
    if hit is None:
        raise TooManyFailedLogins(extra={"retry_after": wait}, headers={"Retry-After": str(wait)})
    return hit


def refresh(user: User) -> str:
    """A new access token for the holder of a valid refresh token."""
    return access_token(user.id)


def logout(user: User, presented: dict, refresh_token: str | None = None) -> None:
    """Revoke the presented token and, when given, the user's refresh token."""
    revocations = [presented]
    if refresh_token:
        claims = refresh_claims(refresh_token, user)
        if claims is not None:
            revocations.append(claims)
    for claims in revocations:
        revoke(claims)


def refresh_claims(token: str, user: User) -> dict | None:
    """The claims of ``user``'s refresh token, None if it has expired already; 422 if it is not one."""
    try:
        claims = decode_token(token)
    except ExpiredSignatureError:
        return None
    except (PyJWTError, JWTExtendedException):
        raise ValidationFailed(fields={"refresh_token": ["Not a valid refresh token."]}) from None
    if claims.get("type") != "refresh" or claims.get("sub") != str(user.id):
        raise ValidationFailed(fields={"refresh_token": ["Not a refresh token of this user."]})
    return claims


def request_phone_code(*, phone: str, client_address: str) -> dict:
    """Issue a sign-in code for ``phone`` and queue its delivery; the code is never returned."""
    phone = normalize_phone(phone)
    code = issue_code(phone, client_address)
    if not enqueue(SEND_SMS_CODE, phone, seal(code)):
        withdraw_code(phone)
        raise ServiceUnavailable("SMS delivery is unavailable right now: try again shortly.",
                                 headers={"Retry-After": "5"})
    config = current_app.config
    return {"phone": phone, "expires_in": config["PHONE_CODE_TTL_SECONDS"],
            "resend_after": config["PHONE_CODE_RESEND_SECONDS"]}


def verify_phone_code(*, phone: str, code: str, client_address: str, current: User | None = None) -> dict:
    """Accept a code: log the phone's user in, create them (``created``), or add the phone to ``current``.

    The code is checked first: who owns a phone is told only to someone who proved they hold it.
    """
    phone = normalize_phone(phone)
    limit_verifications(client_address)
    consume_code(phone, code)
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
