"""JWTs: issuing them, the Redis blocklist, and the JSON answers to every token error."""

from datetime import datetime, timezone

from flask_jwt_extended import create_access_token, create_refresh_token

from app.errors import error_response
from app.extensions import db, jwt, redis_store
from app.users.models import User


def issue_tokens(user: User) -> dict:
    identity = str(user.id)
    return {"access_token": create_access_token(identity), "refresh_token": create_refresh_token(identity)}


def revoke(claims: dict) -> None:
    """Blocklist a token until it would have expired anyway."""
    remaining = int(claims["exp"] - datetime.now(timezone.utc).timestamp())
    if remaining > 0:
        redis_store.client.set(redis_store.key("jwt", "revoked", claims["jti"]), "1", ex=remaining)


def is_revoked(claims: dict) -> bool:
    return redis_store.client.exists(redis_store.key("jwt", "revoked", claims["jti"])) == 1


def register_jwt_callbacks() -> None:
    """Wire flask-jwt-extended to the user table, the blocklist and Agora's error shape."""

    @jwt.user_lookup_loader
    def load_user(_header, claims):
        return db.session.get(User, int(claims["sub"]))

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

    @jwt.user_lookup_error_loader
    def unknown_user(_header, _claims):
        return error_response(401, "invalid_token", "The token's user no longer exists.")
