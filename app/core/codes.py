"""One-time codes kept in Redis, shared by the phone and mail domains: only keyed hashes, every check-and-update atomic.

A domain names its own keys (its models.py) and passes them in: a code's hash {digest, attempts},
its resend cooldown, its sliding one-hour window of codes sent, and optionally a per-address
window. Here live the Lua scripts that issue and settle a code, and the keys the codes are
hashed and sealed under, derived from SECRET_KEY with a label per domain.
"""

import base64
import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from app.core.errors import CodeExpired, InvalidCode, RateLimited, ResendTooSoon, TooManyAttempts, TooManyCodes
from app.extensions import redis_store

# Issue a code: the resend cooldown and the hourly cap per holder (rules of the code, always on)
# and the per-address window (off with RATELIMIT_ENABLED=false) are checked and recorded
# together, then the new code replaces the old one. Returns {verdict, wait}.
ISSUE_CODE = """
local code, cooldown, sent, by_ip = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, digest, ttl_ms, resend_ms = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local per_hour, per_ip, limited, member = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7] == '1', ARGV[8]
local wait = redis.call('PTTL', cooldown)
if wait > 0 then return {'resend_too_soon', wait} end
redis.call('ZREMRANGEBYSCORE', sent, '-inf', now - 3600000)
if redis.call('ZCARD', sent) >= per_hour then
  local oldest = redis.call('ZRANGE', sent, 0, 0, 'WITHSCORES')
  return {'too_many_codes', tonumber(oldest[2]) + 3600000 - now}
end
if limited then
  redis.call('ZREMRANGEBYSCORE', by_ip, '-inf', now - 3600000)
  if redis.call('ZCARD', by_ip) >= per_ip then
    local oldest = redis.call('ZRANGE', by_ip, 0, 0, 'WITHSCORES')
    return {'rate_limited', tonumber(oldest[2]) + 3600000 - now}
  end
  redis.call('ZADD', by_ip, now, member)
  redis.call('PEXPIRE', by_ip, 3600000)
end
redis.call('ZADD', sent, now, member)
redis.call('PEXPIRE', sent, 3600000)
if resend_ms > 0 then redis.call('SET', cooldown, '1', 'PX', resend_ms) end
redis.call('DEL', code)
redis.call('HSET', code, 'digest', digest, 'attempts', 0)
redis.call('PEXPIRE', code, ttl_ms)
return {'ok', 0}
"""

# Settle one verification of the code whose digest the caller read (and compared in constant
# time): consume it on a match, else count the miss and burn it at the limit. If the code was
# replaced meanwhile, say so and let the caller start again.
SETTLE_CODE = """
local stored = redis.call('HGET', KEYS[1], 'digest')
if not stored then return {'expired', 0} end
if stored ~= ARGV[1] then return {'replaced', 0} end
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[1])
  return {'ok', 0}
end
local left = tonumber(ARGV[3]) - redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if left <= 0 then
  redis.call('DEL', KEYS[1])
  return {'burned', 0}
end
return {'wrong', left}
"""


@dataclass(frozen=True)
class CodeKeys:
    """The Redis keys of one holder's code (a phone, or an address for a purpose), named by its domain."""

    code: str
    cooldown: str
    sent: str


@dataclass(frozen=True)
class CodeRules:
    """A code's life and limits: seconds it lives, seconds between two, codes per hour, wrong tries."""

    ttl_seconds: int
    resend_seconds: int
    per_hour: int
    max_attempts: int


@dataclass(frozen=True)
class CodeErrors:
    """What a domain answers when a code is refused: the limits' errors and the no-live-code one."""

    resend_too_soon: type = ResendTooSoon
    too_many_codes: type = TooManyCodes
    rate_limited: type = RateLimited
    expired: type = CodeExpired


def seconds(milliseconds: int) -> int:
    return max(1, math.ceil(milliseconds / 1000))


def store_code(keys: CodeKeys, digest: str, rules: CodeRules, *, errors: CodeErrors = CodeErrors(),
               address_window: str | None = None, per_address: int = 0) -> None:
    """Keep a new code's digest (replacing any live one) within the limits; 429 past them.

    ``address_window`` (a client address's window, off with RATELIMIT_ENABLED=false) is optional.
    """
    now_ms = int(time.time() * 1000)
    limited = address_window is not None and current_app.config["RATELIMIT_ENABLED"]
    verdict, wait_ms = redis_store.client.register_script(ISSUE_CODE)(
        keys=[keys.code, keys.cooldown, keys.sent, address_window or keys.sent],
        args=[now_ms, digest, rules.ttl_seconds * 1000, rules.resend_seconds * 1000, rules.per_hour, per_address,
              "1" if limited else "0", f"{now_ms}-{secrets.token_hex(4)}"])
    if verdict != "ok":
        wait = seconds(int(wait_ms))
        raise getattr(errors, verdict)(extra={"retry_after": wait}, headers={"Retry-After": str(wait)})


def withdraw_code(keys: CodeKeys) -> None:
    """Undo an issued code whose delivery could not be queued: no code, no cooldown to wait out."""
    redis_store.client.delete(keys.code, keys.cooldown)


def is_live(keys: CodeKeys, digest: str) -> bool:
    """True while the code with ``digest`` is the one its holder may still use."""
    return redis_store.client.hget(keys.code, "digest") == digest


def consume_code(keys: CodeKeys, candidate: str, max_attempts: int, *, expired: type = CodeExpired) -> None:
    """Accept the live code whose digest is ``candidate`` once; else 400 invalid_code, 429 too_many_attempts or
    ``expired`` (400 code_expired)."""
    settle = redis_store.client.register_script(SETTLE_CODE)
    for _ in range(3):  # start again only if a new code replaced the one we read
        stored = redis_store.client.hget(keys.code, "digest")
        if stored is None:
            raise expired()
        matched = hmac.compare_digest(stored, candidate)
        verdict, left = settle(keys=[keys.code], args=[stored, "1" if matched else "0", max_attempts])
        if verdict == "ok":
            return
        if verdict == "wrong":
            raise InvalidCode(extra={"attempts_left": int(left)})
        if verdict == "burned":
            raise TooManyAttempts()
        if verdict == "expired":
            raise expired()
    raise expired()


def code_digest(label: str, subject: str) -> str:
    """The keyed hash a code is stored as: HMAC-SHA256 of ``subject``, keyed from SECRET_KEY and ``label``."""
    key = hashlib.sha256(label.encode() + b":" + current_app.config["SECRET_KEY"].encode()).digest()
    return hmac.new(key, subject.encode(), hashlib.sha256).hexdigest()


def _fernet(label: str) -> Fernet:
    key = hashlib.sha256(label.encode() + b":" + current_app.config["SECRET_KEY"].encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(label: str, code: str) -> str:
    """Encrypt a code for its delivery task, so the broker (Redis too) never holds it in clear."""
    return _fernet(label).encrypt(code.encode()).decode()


def unseal(label: str, token: str, ttl_seconds: int) -> str | None:
    """The code a delivery task carries; None if the token is not ours or is older than the code's life."""
    try:
        return _fernet(label).decrypt(token.encode(), ttl=ttl_seconds).decode()
    except InvalidToken:
        return None
