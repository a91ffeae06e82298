"""What the phone domain keeps, all of it in Redis: codes only as keyed hashes, every check-and-update atomic.

Keys (under REDIS_KEY_PREFIX): ``phone:<e164>:code`` a hash {digest, attempts} living
PHONE_CODE_TTL_SECONDS; ``phone:<e164>:cooldown`` the resend cooldown; ``phone:<e164>:sent`` and
``ip:<address>:<action>`` sliding one-hour windows (sorted sets of timestamps); ``sms:outbox:<e164>``
the outbox backend's messages. Nothing outside ``app.phone`` knows these keys.
"""

import hmac
import json
import math
import secrets
import time
from datetime import datetime

from flask import current_app

from app.core.database import utcnow
from app.core.errors import CodeExpired, CodeLimitReached, InvalidCode, RateLimited, ResendTooSoon, TooManyAttempts
from app.core.limits import Window, reserve
from app.extensions import redis_store
from app.phone.crypto import code_digest

# Issue a code: the resend cooldown and the hourly cap per phone (rules of the code, always on)
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

LIMIT_ERRORS = {"resend_too_soon": ResendTooSoon, "too_many_codes": CodeLimitReached, "rate_limited": RateLimited}


def _seconds(milliseconds: int) -> int:
    return max(1, math.ceil(milliseconds / 1000))


def store_code(phone: str, digest: str, client_address: str) -> None:
    """Keep a new code's digest for ``phone`` (replacing any live one) within the limits; 429 past them."""
    config = current_app.config
    now_ms = int(time.time() * 1000)
    keys = [redis_store.key("phone", phone, part) for part in ("code", "cooldown", "sent")]
    keys.append(redis_store.key("ip", client_address, "phone-code"))
    verdict, wait_ms = redis_store.client.register_script(ISSUE_CODE)(keys=keys, args=[
        now_ms, digest, config["PHONE_CODE_TTL_SECONDS"] * 1000,
        config["PHONE_CODE_RESEND_SECONDS"] * 1000, config["PHONE_CODES_PER_HOUR"],
        config["PHONE_REQUESTS_PER_IP_PER_HOUR"], "1" if config["RATELIMIT_ENABLED"] else "0",
        f"{now_ms}-{secrets.token_hex(4)}",
    ])
    if verdict != "ok":
        wait = _seconds(int(wait_ms))
        raise LIMIT_ERRORS[verdict](extra={"retry_after": wait}, headers={"Retry-After": str(wait)})


def withdraw_code(phone: str) -> None:
    """Undo an issued code whose delivery could not be queued: no code, no cooldown to wait out."""
    redis_store.client.delete(redis_store.key("phone", phone, "code"), redis_store.key("phone", phone, "cooldown"))


def limit_verifications(client_address: str) -> None:
    """The per-address window on code checks: 429 ``rate_limited`` past it."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return
    window = Window(redis_store.key("ip", client_address, "phone-verify"), config["PHONE_REQUESTS_PER_IP_PER_HOUR"], 3600)
    _, wait = reserve([window])
    if wait:
        raise RateLimited(extra={"retry_after": wait}, headers={"Retry-After": str(wait)})


def is_live(phone: str, digest: str) -> bool:
    """True while the code with ``digest`` is the one ``phone`` may still use."""
    return redis_store.client.hget(redis_store.key("phone", phone, "code"), "digest") == digest


def consume_code(phone: str, candidate: str) -> None:
    """Accept the live code whose digest is ``candidate`` once; else 400 invalid_code, 429 too_many_attempts or 400 code_expired."""
    key = redis_store.key("phone", phone, "code")
    settle = redis_store.client.register_script(SETTLE_CODE)
    for _ in range(3):  # start again only if a new code replaced the one we read
        stored = redis_store.client.hget(key, "digest")
        if stored is None:
            raise CodeExpired()
        matched = hmac.compare_digest(stored, candidate)
        verdict, left = settle(keys=[key], args=[stored, "1" if matched else "0",
                                                 current_app.config["PHONE_CODE_MAX_ATTEMPTS"]])
        if verdict == "ok":
            return
        if verdict == "wrong":
            raise InvalidCode(extra={"attempts_left": int(left)})
        if verdict == "burned":
            raise TooManyAttempts()
        if verdict == "expired":
            raise CodeExpired()
    raise CodeExpired()


def spend_code(phone: str, code: str, client_address: str) -> None:
    """Check ``code`` against ``phone``'s live code within the per-address window, and spend it if it matches."""
    limit_verifications(client_address)
    consume_code(phone, code_digest(phone, code))


def add_to_outbox(phone: str, body: str) -> None:
    """Keep a message in the phone's outbox list, newest first, bounded."""
    key = redis_store.key("sms", "outbox", phone)
    message = json.dumps({"phone": phone, "body": body, "created_at": utcnow().isoformat()})
    pipe = redis_store.client.pipeline()
    pipe.lpush(key, message)
    pipe.ltrim(key, 0, current_app.config["SMS_OUTBOX_SIZE"] - 1)
    pipe.expire(key, 86_400)
    pipe.execute()


def outbox_messages(phone: str) -> list[dict]:
    """The messages the outbox backend sent to ``phone``, newest first."""
    messages = [json.loads(item) for item in redis_store.client.lrange(redis_store.key("sms", "outbox", phone), 0, -1)]
    return [{**message, "created_at": datetime.fromisoformat(message["created_at"])} for message in messages]
