"""What auth keeps, all of it in Redis under REDIS_KEY_PREFIX (docs/security.md has the rules).

``jwt:revoked:<jti>`` a token logged out; ``jwt:spent:<jti>`` a refresh token exchanged (each is good once);
``jwt:session:<sid>:ended`` a session ended; ``jwt:user:<id>:generation`` the user's session generation.
``reset:<account>``, ``reset:ip:<address>``: password reset windows; ``login:<account>:ip:<address>``,
``login:<account>``, ``login:ip:<address>``: failed-login windows, the account a hash of its ``email_key``.
"""

import hashlib
import time
from datetime import datetime, timezone

from flask import current_app

from app.core.errors import TooManyFailedLogins, TooManyRequests
from app.core.limits import Hit, Window, reserve
from app.events.models import nudge_token_check
from app.users.rules import email_key
from app.extensions import redis_store


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def revoke(claims: dict) -> None:
    """Blocklist a token until it would have expired anyway."""
    remaining = _remaining_seconds(claims)
    if remaining > 0:
        redis_store.client.set(redis_store.key("jwt", "revoked", claims["jti"]), "1", ex=remaining)
        nudge_token_check(claims["sub"])


def session_of(claims: dict) -> str:
    """The session a token belongs to: the ``sid`` of its login (a token minted without one is a session alone)."""
    return claims.get("sid") or claims["jti"]


def end_session(claims: dict) -> None:
    """Refuse every token of the session ``claims`` belongs to (every token descended from its login)."""
    redis_store.client.set(_ended_key(session_of(claims)), "1", ex=_longest_lifetime())
    nudge_token_check(claims["sub"])


# A refresh token is good once: the first exchange marks it spent; any later one ends its whole session.
SPEND_REFRESH_TOKEN = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 1 end
redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
return 0
"""


def spend_refresh_token(claims: dict) -> bool:
    """Mark a refresh token spent, atomically: True for its first exchange; False (and its session ended) after."""
    keys = [redis_store.key("jwt", "spent", claims["jti"]), _ended_key(session_of(claims))]
    args = [max(1, _remaining_seconds(claims)), _longest_lifetime()]
    first = bool(redis_store.client.register_script(SPEND_REFRESH_TOKEN)(keys=keys, args=args))
    if not first:
        nudge_token_check(claims["sub"])
    return first


def session_generation(user_id: int) -> int:
    """The user's current session generation (0 until a credential change raises it)."""
    return int(redis_store.client.get(_generation_key(user_id)) or 0)


# One more, and at least the clock in milliseconds: so it still rises above every generation a live token
# carries after its key expired (the key lasts as long as a token; tokens keep their number longer).
RAISE_GENERATION = """
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
else
  redis.call('INCR', KEYS[1])
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return redis.call('GET', KEYS[1])
"""


def end_sessions(user_id: int) -> int:
    """End every session of ``user_id``: raise its generation, and return the new one.

    A credential change (password, email, reset) calls it after committing the new credential, then
    mints the caller's tokens with the generation it returns (``issue_tokens(user_id, generation=...)``):
    a login that checked the old credential read the generation before, so its tokens are refused.
    """
    script = redis_store.client.register_script(RAISE_GENERATION)
    generation = int(script(keys=[_generation_key(user_id)], args=[now_ms(), _longest_lifetime()]))
    nudge_token_check(user_id)
    return generation


def is_revoked(claims: dict) -> bool:
    """The rule of ended sessions, in one round trip: a token is refused if it was logged out, if its session
    ended, or if its generation is lower than its user's (a credential changed since its own was checked)."""
    return revoked_by(claims, redis_store.client.mget(revocation_keys(claims)))


def revocation_keys(claims: dict) -> list[str]:
    """What ``is_revoked`` reads for a token (open event streams read many at once: ``app.events.hub``)."""
    return [redis_store.key("jwt", "revoked", claims["jti"]), _ended_key(session_of(claims)),
            _generation_key(claims["sub"])]


def revoked_by(claims: dict, values: list) -> bool:
    """``is_revoked``'s decision, given the values of ``revocation_keys(claims)``."""
    revoked, ended, generation = values
    # A token without a generation was minted before generations existed, when cut-offs were kept elsewhere:
    # refused, so no session ended before an upgrade comes back after it (its holder logs in once more).
    return revoked is not None or ended is not None or claims.get("gen", -1) < int(generation or 0)


def _generation_key(subject) -> str:
    return redis_store.key("jwt", "user", subject, "generation")


def _ended_key(session: str) -> str:
    return redis_store.key("jwt", "session", session, "ended")


def _remaining_seconds(claims: dict) -> int:
    return int(claims["exp"] - datetime.now(timezone.utc).timestamp())


def _longest_lifetime() -> int:
    """Seconds a mark must be kept: as long as the longest-lived token minted before it could be presented."""
    config = current_app.config
    return int(max(config["JWT_ACCESS_TOKEN_EXPIRES"], config["JWT_REFRESH_TOKEN_EXPIRES"]).total_seconds()) + 60


def _account(email: str) -> str:
    """An address's key in the windows: a hash of ``email_key``, so every spelling fills one account's windows."""
    return hashlib.sha256(email_key(email).encode()).hexdigest()[:32]


def login_windows(email: str, client_address: str) -> list[Window]:
    """The failed-login windows of SPEC's security rules: account and address, account, address.

    The account is keyed by a hash of the email's key (``app.users.rules.email_key``), known or not:
    the very value lookups compare, so every spelling that reaches an account fills its windows;
    throttling says nothing about which emails have accounts, and Redis holds no email in the clear.
    """
    config = current_app.config
    account = _account(email)
    window = config["LOGIN_FAILURE_WINDOW_SECONDS"]
    return [
        Window(redis_store.key("login", account, "ip", client_address),
               config["LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS"], window),
        Window(redis_store.key("login", account), config["LOGIN_FAILURES_PER_ACCOUNT"],
               config["LOGIN_ACCOUNT_WINDOW_SECONDS"]),
        Window(redis_store.key("login", "ip", client_address), config["LOGIN_FAILURES_PER_ADDRESS"], window),
    ]


def limit_reset_requests(email: str, client_address: str) -> None:
    """One password reset request in its windows, known address or not: per address (EMAIL_CODES_PER_HOUR,
    keyed like the failed-login account) and per client address (PASSWORD_RESETS_PER_IP_PER_HOUR); 429
    ``too_many_requests`` with ``Retry-After`` past either, so that nobody floods a mailbox or probes many."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return
    account = _account(email)
    _, wait = reserve([Window(redis_store.key("reset", account), config["EMAIL_CODES_PER_HOUR"], 3600),
                       Window(redis_store.key("reset", "ip", client_address),
                              config["PASSWORD_RESETS_PER_IP_PER_HOUR"], 3600)])
    if wait:
        raise TooManyRequests("Too many password reset requests: wait before asking again.",
                              extra={"retry_after": wait}, headers={"Retry-After": str(wait)})


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
