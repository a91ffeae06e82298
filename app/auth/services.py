"""Accounts: email signup and login, token refresh and logout (phone sign-in is ``app.phone``)."""

import logging

from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import JWTExtendedException, RevokedTokenError
from jwt.exceptions import ExpiredSignatureError, PyJWTError
from sqlalchemy import update

from app.auth.models import (end_session, end_sessions, limit_reset_requests, reserve_login_attempt, revoke,
                             session_generation, session_of, spend_refresh_token)
from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.auth.tokens import issue_tokens
from app.core.errors import (CodeExpired, DomainError, InvalidCode, InvalidCredentials, ServiceUnavailable,
                             TooManyAttempts, ValidationFailed)
from app.core.jobs import enqueue
from app.core.limits import limit_write
from app.extensions import db
from app.mail.services import check_email_code, confirmation_values, mail_confirmation_code, send_email_code
from app.profile_checks.services import CheckTarget, initial_check_statuses, queue_profile_checks
from app.users.models import User
from app.users.services import find_by_email, find_credentials, insert_email_user, normalize_email

log = logging.getLogger(__name__)


def signup(*, email: str, password: str, client_address: str, name: str | None = None) -> tuple[int, dict]:
    """Create an email account, then queue its verification and mail its confirmation code; returns its id and tokens.

    Enrichment waits for the address to be confirmed (``app.mail.services.confirm_email``).

    Within SIGNUPS_PER_IP_PER_HOUR from ``client_address``, counted before the password's costly hash.
    """
    limit_write("signups", client_address)
    email = normalize_email(email)
    password_hash = hash_password(password)  # before any query: SQLite holds its write lock from the first
    statuses = initial_check_statuses()
    user_id = insert_email_user(email=email, password_hash=password_hash, name=name, **statuses)  # committed
    queue_profile_checks(CheckTarget(user_id, email, statuses["email_status"], statuses["enrichment_status"]))
    mail_confirmation_code(email)
    return user_id, issue_tokens(user_id)


def login(*, email: str, password: str, client_address: str) -> tuple[int, dict]:
    """Exchange an email and password for the account's id and tokens; one answer for every kind of failure.

    Each attempt first reserves a failure in the login windows (429 past any of them, even
    with the right password); a success takes its reservation back, so only failures count.
    """
    attempt = reserve_login_attempt(email, client_address)
    try:
        account, generation = credentials_and_generation(email)
        valid = verify_password(account.password_hash if account else None, password)
    except Exception:
        attempt.release()  # the database failed, not the person
        raise
    if not valid:
        raise InvalidCredentials()
    attempt.release()
    if needs_rehash(account.password_hash):
        users = User.__table__  # unless a password change committed meanwhile: it must not be undone
        db.session.execute(update(users).values(password_hash=hash_password(password))
                           .where(users.c.id == account.id, users.c.password_hash == account.password_hash))
        db.session.commit()
    return account.id, issue_tokens(account.id, generation=generation)


def credentials_and_generation(email: str) -> tuple:
    """The account's ``(id, password_hash)`` and the session generation to mint its tokens with; ``(None, 0)``.

    The generation is read before the password hash that is checked: a password or email change commits,
    then raises the generation, so a login that checked the old password or address mints tokens it refuses.
    """
    known = find_credentials(email)  # whose generation to read
    if known is None:
        return None, 0
    generation = session_generation(known.id)
    account = find_credentials(email)
    return (account, generation) if account is not None and account.id == known.id else (None, 0)


def refresh(user: User, presented: dict) -> dict:
    """New tokens for a refresh token, which is spent: presented again, it ends its whole session (401).

    The new tokens stay in the presented token's session and keep its generation, so a credential
    change racing the refresh refuses them as it refuses the token they replace.
    """
    if not spend_refresh_token(presented):
        raise RevokedTokenError({}, presented)
    return issue_tokens(user.id, generation=presented.get("gen", 0), session=session_of(presented))


def logout(user: User, presented: dict, refresh_token: str | None = None) -> None:
    """Revoke the presented token and, when given, the user's refresh token, and end their sessions."""
    revocations = [presented]
    if refresh_token:
        claims = refresh_claims(refresh_token, user)
        if claims is not None:
            revocations.append(claims)
    for claims in revocations:
        revoke(claims)
        end_session(claims)


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


RESET_REFUSED = ("The code is wrong or has expired, or no account has this address: "
                 "ask for a new one with POST /api/v1/auth/password/forgot.")


def forgot_password(*, email: str, client_address: str) -> None:
    """Mail a password reset code to ``email`` if an account has it, answering alike for every address.

    Counted per address and per client address whether an account has it or not (429 past either).
    Every address then costs the request the same work, one queued job (``mail_reset_code``): whether an
    account has it, and what refuses its code (a resend cooldown, the hourly cap), is settled off the request.
    """
    limit_reset_requests(email, client_address)
    if not enqueue(mail_reset_code, email):
        raise ServiceUnavailable("Mail delivery is unavailable right now: try again shortly.",
                                 headers={"Retry-After": "5"})


def mail_reset_code(email: str) -> None:
    """Send the account with ``email`` a reset code, to its own address (the ``tasks.mail_reset_code`` task).

    Nothing for an address no account has; a code the rules refuse is logged: nobody is waiting for an answer.
    """
    account = find_by_email(email)
    address = account.email if account is not None else None
    db.session.rollback()
    if address is None:
        return
    try:
        send_email_code(address, "reset")
    except DomainError as refused:
        log.info("reset_code_not_sent reason=%s", refused.code)


def reset_password(*, email: str, code: str, password: str) -> tuple[int, dict]:
    """Set a new password with a code ``forgot_password`` mailed: the address is confirmed (the code proves its
    holder reads its mail) and every earlier session of the account ends; returns its id and fresh tokens.

    A wrong code, a spent or expired one and an address no account has are one answer, 400 ``invalid_code``
    (underneath, the code's rules still count: its last wrong attempt burns it).
    """
    account = find_by_email(email)
    user_id, address = (account.id, account.email) if account is not None else (None, email)
    db.session.rollback()  # no transaction held while the code is checked and the password hashed
    try:
        check_email_code(address, "reset", code)
    except (InvalidCode, TooManyAttempts, CodeExpired):
        raise InvalidCode(RESET_REFUSED) from None
    if user_id is None:
        raise InvalidCode(RESET_REFUSED)
    password_hash = hash_password(password)
    confirmed = confirmation_values()
    users = User.__table__
    # Only for the address the code was mailed to: if the account's email changed since, nothing is written.
    of_address = (users.c.id == user_id, users.c.email == address)
    newly_confirmed = db.session.execute(update(users).where(*of_address, users.c.email_confirmed.is_(False))
                                         .values(password_hash=password_hash, **confirmed)).rowcount == 1
    if not newly_confirmed and db.session.execute(
            update(users).where(*of_address).values(password_hash=password_hash)).rowcount != 1:
        db.session.rollback()
        raise InvalidCode(RESET_REFUSED)
    end_sessions(user_id)  # before the commit too: with Redis down nothing changes (503)
    db.session.commit()
    tokens = issue_tokens(user_id, generation=end_sessions(user_id))
    if newly_confirmed:
        queue_profile_checks(CheckTarget(user_id, address, "confirmed", confirmed["enrichment_status"]))
    return user_id, tokens

