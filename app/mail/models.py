"""What the mail domain keeps, all of it in Redis: codes only as keyed hashes (``app.core.codes``), and the outbox.

Keys (under REDIS_KEY_PREFIX): ``mail:<purpose>:<address>:code`` {digest, attempts}, ``...:cooldown``,
``...:sent`` (the hour's window), ``mail:outbox:<address>``. The address is its ``email_key``, so every
spelling of one address shares its code and limits. Nothing outside ``app.mail`` knows these keys.
"""

from flask import current_app

from app.core import codes, outbox
from app.core.errors import EmailCodeExpired, TooManyEmailCodes
from app.extensions import redis_store
from app.users.rules import email_key

DIGEST_LABEL = "agora mail code"
SEAL_LABEL = "agora sealed mail"
ERRORS = codes.CodeErrors(too_many_codes=TooManyEmailCodes, expired=EmailCodeExpired)


def code_keys(email: str, purpose: str) -> codes.CodeKeys:
    return codes.CodeKeys(*(redis_store.key("mail", purpose, email_key(email), part)
                            for part in ("code", "cooldown", "sent")))


def code_rules() -> codes.CodeRules:
    config = current_app.config
    return codes.CodeRules(config["EMAIL_CODE_TTL_SECONDS"], config["EMAIL_CODE_RESEND_SECONDS"],
                           config["EMAIL_CODES_PER_HOUR"], config["EMAIL_CODE_MAX_ATTEMPTS"])


def code_digest(email: str, purpose: str, code: str) -> str:
    """The keyed hash a mailed code is stored as, bound to its address and purpose."""
    return codes.code_digest(DIGEST_LABEL, f"{purpose}:{email_key(email)}:{code}")


def seal(code: str) -> str:
    return codes.seal(SEAL_LABEL, code)


def unseal(token: str) -> str | None:
    return codes.unseal(SEAL_LABEL, token, current_app.config["EMAIL_CODE_TTL_SECONDS"])


def store_code(email: str, purpose: str, code: str) -> None:
    """Keep a new code's digest (replacing any live one) within the code's limits; 429 past them."""
    codes.store_code(code_keys(email, purpose), code_digest(email, purpose, code), code_rules(), errors=ERRORS)


def withdraw_code(email: str, purpose: str) -> None:
    """Undo an issued code whose delivery could not be queued."""
    codes.withdraw_code(code_keys(email, purpose))


def is_live(email: str, purpose: str, code: str) -> bool:
    """True while ``code`` is the one the address may still use for ``purpose``."""
    return codes.is_live(code_keys(email, purpose), code_digest(email, purpose, code))


def consume_code(email: str, purpose: str, code: str) -> None:
    """Spend the live code if ``code`` is it; else 400 invalid_code, 429 too_many_attempts or 400 code_expired."""
    codes.consume_code(code_keys(email, purpose), code_digest(email, purpose, code),
                       current_app.config["EMAIL_CODE_MAX_ATTEMPTS"], expired=EmailCodeExpired)


def add_to_outbox(email: str, subject: str, body: str) -> None:
    """Keep a message in the address's outbox list, newest first, bounded."""
    message = {"email": email, "subject": subject, "body": body}
    outbox.keep(redis_store.key("mail", "outbox", email_key(email)), message, current_app.config["MAIL_OUTBOX_SIZE"])


def outbox_messages(email: str) -> list[dict]:
    """The messages the outbox backend sent to ``email``, newest first."""
    return outbox.read(redis_store.key("mail", "outbox", email_key(email)))
