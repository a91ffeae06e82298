"""Accounts: email signup and login, token refresh and logout (phone sign-in is ``app.phone``)."""

from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import ExpiredSignatureError, PyJWTError
from sqlalchemy import update

from app.auth.models import reserve_login_attempt, revoke
from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.auth.tokens import access_token, issue_tokens
from app.core.errors import InvalidCredentials, ValidationFailed
from app.core.limits import limit_write
from app.extensions import db
from app.profile_checks.services import CheckTarget, initial_check_statuses, queue_profile_checks
from app.users.models import User
from app.users.services import find_credentials, insert_email_user, normalize_email


def signup(*, email: str, password: str, client_address: str, name: str | None = None) -> tuple[int, dict]:
    """Create an email account, then queue its verification and enrichment; returns its id and tokens.

    Within SIGNUPS_PER_IP_PER_HOUR from ``client_address``, counted before the password's costly hash.
    """
    limit_write("signups", client_address)
    email = normalize_email(email)
    password_hash = hash_password(password)  # before any query: SQLite holds its write lock from the first
    statuses = initial_check_statuses()
    user_id = insert_email_user(email=email, password_hash=password_hash, name=name, **statuses)  # committed
    queue_profile_checks(CheckTarget(user_id, email, statuses["email_status"], statuses["enrichment_status"]))
    return user_id, issue_tokens(user_id)


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
