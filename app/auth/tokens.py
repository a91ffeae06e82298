"""JWTs: issuing them, the request's user, and the JSON answers to every token error.

Every token carries its session (``sid``: the login it descends from) and its user's session
generation (``gen``), read before the credential it was minted for was checked:
``models.is_revoked`` refuses it once that session ended or a credential change raised the generation.
"""


import re
import secrets
from functools import wraps

from flask import current_app, g, request
from flask_jwt_extended import create_access_token, create_refresh_token
from flask_jwt_extended.exceptions import (InvalidHeaderError, NoAuthorizationError, RevokedTokenError,
                                           UserClaimsVerificationError, WrongTokenError)
from werkzeug.local import LocalProxy

from app.auth.models import is_revoked, session_generation
from app.core.errors import TokenUserGone, error_response
from app.core.schemas import MAX_ID
from app.extensions import db, jwt
from app.users.models import User


def issue_tokens(user_id: int, *, generation: int | None = None, session: str | None = None) -> dict:
    """A new access and refresh token for the user ``user_id``, in a new session unless ``session`` is given.

    ``generation`` is the user's session generation read before the credential was checked (a login),
    the presented refresh token's own, or the one ``end_sessions`` returned to a credential change;
    when not given it is read now (a credential no password or email change replaces: a new account, a phone code).
    """
    claims = {"gen": session_generation(user_id) if generation is None else generation,
              "sid": session or secrets.token_urlsafe(16)}
    identity = str(user_id)
    return {"access_token": create_access_token(identity, additional_claims=claims),
            "refresh_token": create_refresh_token(identity, additional_claims=claims)}


def user_id_of(claims: dict) -> int | None:
    """The user id a token names; None if its subject is not one (a forged or foreign token)."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not (subject.isascii() and subject.isdigit()):
        return None
    user_id = int(subject)
    return user_id if 1 <= user_id <= MAX_ID else None


AUTH_VALUES = re.compile(r",\s*")


def token_required(optional: bool = False, refresh: bool = False, verify_type: bool = True):
    """A view decorator: the request must carry a valid token in its Authorization header (or none, if ``optional``).

    flask-jwt-extended's ``jwt_required`` for Agora's one token location, answering every case as it
    does (the same exceptions, answered by the loaders below), without its per-request work that
    only repeats itself: it looks the token up in every configured location, decodes its header
    a second time, and reaches each check through the manager. Here the header and claims come
    from the cache of verified tokens (``CachingJWTManager.verified_token``); the blocklist is read
    on every request. ``refresh`` asks for a refresh token; ``verify_type=False`` takes either kind.
    """
    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            verify_token(optional=optional, refresh=refresh, verify_type=verify_type)
            return view(*args, **kwargs)
        return guarded
    return decorator


def verify_token(optional: bool = False, refresh: bool = False, verify_type: bool = True) -> None:
    """Check the request's token and keep its claims for ``current_claims``; raises when it is refused."""
    try:
        encoded = bearer_token(request.headers.get(current_app.config["JWT_HEADER_NAME"], ""))
    except NoAuthorizationError:
        if not optional:
            raise
        g.agora_claims = {}
        return
    header, claims = jwt.verified_token(encoded)
    if verify_type:
        if refresh and claims.get("type") != "refresh":
            raise WrongTokenError("Only refresh tokens are allowed")
        if not refresh and claims.get("type") == "refresh":
            raise WrongTokenError("Only non-refresh tokens are allowed")
    if user_id_of(claims) is None:
        raise UserClaimsVerificationError("User claims verification failed", header, claims)
    if is_revoked(claims):
        raise RevokedTokenError(header, claims)
    g.agora_claims = claims


def bearer_token(value: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, read as flask-jwt-extended reads it
    (several comma-separated credentials may be sent; exactly one must be a Bearer one)."""
    name, kind = current_app.config["JWT_HEADER_NAME"], current_app.config["JWT_HEADER_TYPE"]
    value = value.strip().strip(",")
    if not value:
        raise NoAuthorizationError(f"Missing {name} Header")
    # (flask-jwt-extended's own reader fails with an IndexError, a 500, on a blank credential such as ", ,")
    candidates = [part for part in AUTH_VALUES.split(value) if part.split()[:1] == [kind]]
    if len(candidates) != 1:
        raise NoAuthorizationError(f"Missing '{kind}' type in '{name}' header. Expected '{name}: {kind} <JWT>'")
    parts = candidates[0].split()
    if len(parts) != 2:
        raise InvalidHeaderError(f"Bad {name} header. Expected '{name}: {kind} <JWT>'")
    return parts[1]


def current_claims() -> dict:
    """The claims of the request's verified token; {} when an optional token was not sent."""
    claims = g.get("agora_claims")
    if claims is None:
        raise RuntimeError("current_claims() is only known in a view decorated with token_required")
    return claims


def current_user_id() -> int | None:
    """The id of the user the request's verified token names; None without a token."""
    claims = current_claims()
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
    """Answer flask-jwt-extended's token errors (raised by ``verify_token`` too) in Agora's error shape."""

    @jwt.token_verification_failed_loader
    def foreign_subject(_header, _claims):
        return error_response(401, "invalid_token", "The token does not name a user.",
                              headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

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

