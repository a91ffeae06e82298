"""What auth keeps, all of it in Redis under REDIS_KEY_PREFIX.

``jwt:revoked:<jti>``: a token logged out, until it would have expired anyway.
``jwt:user:<id>:not-before``: milliseconds; once a user's password or email changed, every token
issued before is refused.
``login:<account>:ip:<address>``, ``login:<account>``, ``login:ip:<address>``: the failed-login windows
(``app.core.limits``); the account is a hash of the lower-cased email.
"""

import hashlib
import time
from datetime import datetime, timezone

from flask import current_app

from app.core.errors import TooManyFailedLogins
from app.core.limits import Hit, Window, reserve
from app.extensions import redis_store


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def revoke(claims: dict) -> None:
    """Blocklist a token until it would have expired anyway."""
    remaining = int(claims["exp"] - datetime.now(timezone.utc).timestamp())
    if remaining > 0:
        redis_store.client.set(redis_store.key("jwt", "revoked", claims["jti"]), "1", ex=remaining)


def end_sessions(user_id: int) -> None:
    """Refuse every token of ``user_id`` issued until now (a password or email change)."""
    config = current_app.config
    # Kept as long as the longest-lived token issued before could still be presented.
    lifetime = max(config["JWT_ACCESS_TOKEN_EXPIRES"], config["JWT_REFRESH_TOKEN_EXPIRES"]).total_seconds()
    redis_store.client.set(_not_before_key(user_id), now_ms(), ex=int(lifetime) + 60)


def _not_before_key(subject) -> str:
    return redis_store.key("jwt", "user", subject, "not-before")


def is_revoked(claims: dict) -> bool:
    """True if the token was logged out, or issued before its user's sessions were ended: one round trip."""
    revoked, not_before = redis_store.client.mget(redis_store.key("jwt", "revoked", claims["jti"]),
                                                  _not_before_key(claims["sub"]))
    if revoked is not None:
        return True
    issued_ms = claims.get("iat_ms", claims["iat"] * 1000)
    return not_before is not None and issued_ms < int(not_before)


def login_windows(email: str, client_address: str) -> list[Window]:
    """The failed-login windows of SPEC's security rules: account and address, account, address.

    The account is keyed by a hash of the lower-cased email, known or not, so throttling
    says nothing about which emails have accounts and Redis holds no email in the clear.
    """
    config = current_app.config
    account = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
    window = config["LOGIN_FAILURE_WINDOW_SECONDS"]
    return [
        Window(redis_store.key("login", account, "ip", client_address),
               config["LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS"], window),
        Window(redis_store.key("login", account), config["LOGIN_FAILURES_PER_ACCOUNT"],
               config["LOGIN_ACCOUNT_WINDOW_SECONDS"]),
        Window(redis_store.key("login", "ip", client_address), config["LOGIN_FAILURES_PER_ADDRESS"], window),
    ]


def reserve_login_attempt(email: str, client_address: str) -> Hit:
    """A place in every failed-login window, or 429 ``too_many_failed_logins`` with ``Retry-After``.

    Every check of a credential takes one (a login, a re-authentication): only a success gives it back.
    """
    if not current_app.config["RATELIMIT_ENABLED"]:
        return Hit((), "")
    hit, wait = reserve(login_windows(email, client_address))
    if hit is None:
        raise TooManyFailedLogins(extra={"retry_after": wait}, headers={"Retry-After": str(wait)})
    return hit
