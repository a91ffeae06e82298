"""JWTs: issuing them, the request's user, and the JSON answers to every token error.

Tokens carry their issue time in milliseconds (``iat_ms``), since ``iat`` has whole seconds:
``models.is_revoked`` compares it with the user's session cut-off.
"""


from flask import g
from flask_jwt_extended import create_access_token, create_refresh_token, get_jwt
from werkzeug.local import LocalProxy

from app.auth.models import is_revoked, now_ms
from app.core.errors import TokenUserGone, error_response
from app.core.schemas import MAX_ID
from app.extensions import db, jwt
from app.users.models import User


def access_token(user_id: int) -> str:
    return create_access_token(str(user_id), additional_claims={"iat_ms": now_ms()})


def issue_tokens(user_id: int) -> dict:
    """A new access and refresh token for the user ``user_id``."""
    identity = str(user_id)
    return {"access_token": access_token(user_id),
            "refresh_token": create_refresh_token(identity, additional_claims={"iat_ms": now_ms()})}


def user_id_of(claims: dict) -> int | None:
    """The user id a token names; None if its subject is not one (a forged or foreign token)."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not (subject.isascii() and subject.isdigit()):
        return None
    user_id = int(subject)
    return user_id if 1 <= user_id <= MAX_ID else None


def current_user_id() -> int | None:
    """The id of the user the request's verified token names; None without a token."""
    claims = get_jwt()
    return int(claims["sub"]) if claims else None


def _load_current_user() -> User | None:
    """The token's user, loaded once per request and only by the routes that need the row."""
    if "agora_user" not in g:
        user_id = current_user_id()
        user = db.session.get(User, user_id) if user_id is not None else None
        if user_id is not None and user is None:
            raise TokenUserGone()
        g.agora_user = user
    return g.agora_user


# Like flask-jwt-extended's, but lazy: reads that need only the id never load the user row.
current_user: User | None = LocalProxy(_load_current_user)


def register_jwt_callbacks() -> None:
    """Wire flask-jwt-extended to the blocklist and Agora's error shape."""

    @jwt.token_verification_loader
    def names_a_user(_header, claims):
        return user_id_of(claims) is not None

    @jwt.token_verification_failed_loader
    def foreign_subject(_header, _claims):
        return error_response(401, "invalid_token", "The token does not name a user.",
                              headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    @jwt.token_in_blocklist_loader
    def check_blocklist(_header, claims):
        return is_revoked(claims)

    @jwt.unauthorized_loader
    def missing_token(reason):
        return error_response(401, "authorization_required",
                              "Send an access token: Authorization: Bearer <token>.",
                              headers={"WWW-Authenticate": "Bearer"})

    @jwt.invalid_token_loader
    def invalid_token(reason):
        return error_response(401, "invalid_token", f"The token is not valid: {reason}.",
                              headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    @jwt.expired_token_loader
    def expired_token(_header, _claims):
        return error_response(401, "token_expired", "The token has expired: refresh it or log in again.",
                              headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    @jwt.revoked_token_loader
    def revoked_token(_header, _claims):
        return error_response(401, "token_revoked", "The token was revoked: log in again.",
                              headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

