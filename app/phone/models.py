"""What the phone domain keeps, all of it in Redis: codes only as keyed hashes, every check-and-update atomic.

Keys (under REDIS_KEY_PREFIX): ``phone:<e164>:code`` a hash {digest, attempts} living
PHONE_CODE_TTL_SECONDS; ``phone:<e164>:cooldown`` the resend cooldown; ``phone:<e164>:sent`` and
``ip:<address>:<action>`` sliding one-hour windows (sorted sets of timestamps); ``sms:outbox:<e164>``
the outbox backend's messages. Nothing outside ``app.phone`` knows these keys.
"""

from flask import current_app

from app.core import codes, outbox
from app.core.errors import RateLimited
from app.core.limits import Window, reserve
from app.extensions import redis_store
from app.phone.crypto import code_digest


def code_keys(phone: str) -> codes.CodeKeys:
    return codes.CodeKeys(*(redis_store.key("phone", phone, part) for part in ("code", "cooldown", "sent")))


def code_rules() -> codes.CodeRules:
    config = current_app.config
    return codes.CodeRules(config["PHONE_CODE_TTL_SECONDS"], config["PHONE_CODE_RESEND_SECONDS"],
                           config["PHONE_CODES_PER_HOUR"], config["PHONE_CODE_MAX_ATTEMPTS"])


def store_code(phone: str, digest: str, client_address: str) -> None:
    """Keep a new code's digest for ``phone`` (replacing any live one) within the limits; 429 past them."""
    codes.store_code(code_keys(phone), digest, code_rules(),
                     address_window=redis_store.key("ip", client_address, "phone-code"),
                     per_address=current_app.config["PHONE_REQUESTS_PER_IP_PER_HOUR"])


def withdraw_code(phone: str) -> None:
    """Undo an issued code whose delivery could not be queued: no code, no cooldown to wait out."""
    codes.withdraw_code(code_keys(phone))


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
    return codes.is_live(code_keys(phone), digest)


def consume_code(phone: str, candidate: str) -> None:
    """Accept the live code whose digest is ``candidate`` once; else 400 invalid_code, 429 too_many_attempts or 400 code_expired."""
    codes.consume_code(code_keys(phone), candidate, current_app.config["PHONE_CODE_MAX_ATTEMPTS"])


def spend_code(phone: str, code: str, client_address: str) -> None:
    """Check ``code`` against ``phone``'s live code within the per-address window, and spend it if it matches."""
    limit_verifications(client_address)
    consume_code(phone, code_digest(phone, code))


def add_to_outbox(phone: str, body: str) -> None:
    """Keep a message in the phone's outbox list, newest first, bounded."""
    outbox.keep(redis_store.key("sms", "outbox", phone), {"phone": phone, "body": body},
                current_app.config["SMS_OUTBOX_SIZE"])


def outbox_messages(phone: str) -> list[dict]:
    """The messages the outbox backend sent to ``phone``, newest first."""
    return outbox.read(redis_store.key("sms", "outbox", phone))
