"""JWTs: issuing them, the kinds of authentication an operation declares, the request's user, and the
401 answers to every token error (sent by the loaders, documented from the same table).

Every token carries its session (``sid``: the login it descends from) and its user's session
generation (``gen``), read before the credential it was minted for was checked:
``models.is_revoked`` refuses it once that session ended or a credential change raised the generation.
"""


import re
import secrets
from collections.abc import Callable
from functools import partial

from flask import current_app, g, request
from flask_jwt_extended import create_access_token, create_refresh_token
from flask_jwt_extended.exceptions import (InvalidHeaderError, NoAuthorizationError, RevokedTokenError,
                                           UserClaimsVerificationError, WrongTokenError)
from werkzeug.local import LocalProxy

from app.auth.models import is_revoked, session_generation
from app.core.errors import TokenUserGone, error_response
from app.core.operations import Auth
from app.core.schemas import MAX_ID, ErrorSchema
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


def verify_token(optional: bool = False, refresh: bool = False, verify_type: bool = True) -> None:
    """Check the request's token and keep its claims for ``current_claims``; raises when it is refused.

    ``jwt_required``'s checks and exceptions for Agora's one token location, the header and claims from the
    verified-token cache; the blocklist is read on every request. ``verify_type=False`` takes either kind.
    """
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


# --- the kinds of authentication an operation declares (``Blueprint.operation(auth=...)``) ---------------

BEARER_SCHEME = "bearerAuth"
# The 401 responses documented for the kinds below: flask-smorest's own name for 401, and optional auth's.
TOKEN_REQUIRED_RESPONSE = "UNAUTHORIZED"
TOKEN_REFUSED_RESPONSE = "TOKEN_REFUSED"
OPTIONAL_AUTH_NOTE = ("**Authentication is optional.** Without a token this answers anonymously; with one "
                      "(Authorize), it answers as that user. A token that is sent must be valid, or the answer is 401.")
BEARER = ({BEARER_SCHEME: []},)

ACCESS_TOKEN = Auth(verify_token, BEARER, TOKEN_REQUIRED_RESPONSE)
# Anonymous without a token; a token that is sent must be valid.
OPTIONAL_ACCESS_TOKEN = Auth(partial(verify_token, optional=True), ({}, *BEARER), TOKEN_REFUSED_RESPONSE,
                             note=OPTIONAL_AUTH_NOTE)
REFRESH_TOKEN = Auth(partial(verify_token, refresh=True), BEARER, TOKEN_REQUIRED_RESPONSE)
# An access or a refresh token: logout revokes whichever it is given.
ANY_TOKEN = Auth(partial(verify_token, verify_type=False), BEARER, TOKEN_REQUIRED_RESPONSE)


def access_token_or(scheme: str, parameter: str, redeem: Callable[[str], dict]) -> Auth:
    """An access token, or a credential in the query parameter ``parameter`` (the security scheme ``scheme``)
    that ``redeem`` exchanges for the claims it stands for, raising when it refuses it."""
    def check() -> None:
        credential = request.args.get(parameter)
        if credential is None:
            verify_token()
        else:
            g.agora_claims = redeem(credential)

    return Auth(check, (*BEARER, {scheme: []}), TOKEN_REQUIRED_RESPONSE)


def current_claims() -> dict:
    """The claims of the request's verified token; {} when an optional token was not sent."""
    claims = g.get("agora_claims")
    if claims is None:
        raise RuntimeError("current_claims() is only known in an operation declared with auth=")
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


# --- the 401 answers: what the loaders send, and what the document says of them ----------------------

# code -> (when it is answered, the message sent; ``invalid_token``'s names the reason, here an example).
TOKEN_ERRORS = {
    "authorization_required": ("No token was sent", "Send an access token: Authorization: Bearer <token>."),
    "invalid_token": ("The token is malformed, forged, of the wrong type or names no user",
                      "The token is not valid: Signature verification failed."),
    "token_expired": ("The token has expired: get a new one with `POST /api/v1/auth/refresh`",
                      "The token has expired: refresh it or log in again."),
    "token_revoked": ("The token was logged out, its session ended (logout, or a spent refresh token presented "
                      "again), or the password or email changed since it was issued",
                      "The token was revoked: log in again."),
}
INVALID_TOKEN = 'Bearer error="invalid_token"'


def token_error(code: str, message: str | None = None):
    """The 401 answer ``code`` of ``TOKEN_ERRORS``, with its message unless another is given."""
    return error_response(401, code, message or TOKEN_ERRORS[code][1],
                          headers={"WWW-Authenticate": "Bearer" if code == "authorization_required" else INVALID_TOKEN})


def register_jwt_callbacks() -> None:
    """Answer flask-jwt-extended's token errors (raised by ``verify_token`` too) in Agora's error shape."""

    @jwt.token_verification_failed_loader
    def foreign_subject(_header, _claims):
        return token_error("invalid_token", "The token does not name a user.")

    @jwt.unauthorized_loader
    def missing_token(reason):
        return token_error("authorization_required")

    @jwt.invalid_token_loader
    def invalid_token(reason):
        return token_error("invalid_token", f"The token is not valid: {reason}.")

    @jwt.expired_token_loader
    def expired_token(_header, _claims):
        return token_error("token_expired")

    @jwt.revoked_token_loader
    def revoked_token(_header, _claims):
        return token_error("token_revoked")


def register_token_docs(api) -> None:
    """The bearer scheme, and the 401 responses of the kinds of authentication above, in the OpenAPI document."""
    api.spec.components.security_scheme(BEARER_SCHEME, {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    refused = {code: why for code, why in TOKEN_ERRORS.items() if code != "authorization_required"}
    # Lazily, under flask-smorest's name for 401 as it registers its own: this replaces its bare one.
    api.spec.components.response(TOKEN_REQUIRED_RESPONSE, token_error_response("No valid token", TOKEN_ERRORS),
                                 lazy=True)
    api.spec.components.response(TOKEN_REFUSED_RESPONSE, token_error_response(
        "A token was sent and refused (without one, the operation answers anonymously)", refused), lazy=True)


def token_error_response(title: str, errors: dict) -> dict:
    """A 401 response listing ``errors`` (code -> (when, message)), with one example of each."""
    reasons = "\n".join(f"- `{code}`: {when}" for code, (when, _) in errors.items())
    return {
        "description": f"{title}:\n\n{reasons}",
        "content": {"application/json": {
            "schema": ErrorSchema,
            "examples": {code: {"summary": when.split(":")[0],
                                "value": {"error": {"status": 401, "code": code, "message": message}}}
                         for code, (when, message) in errors.items()},
        }},
    }
