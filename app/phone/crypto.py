"""The keys of phone codes, derived from SECRET_KEY: the digest a code is stored as, and the seal it travels under."""

from flask import current_app

from app.core import codes

DIGEST_LABEL = "agora phone code"
SEAL_LABEL = "agora sealed sms"


def code_digest(phone: str, code: str) -> str:
    """The keyed hash a code is stored as: HMAC-SHA256 under a key derived from SECRET_KEY."""
    return codes.code_digest(DIGEST_LABEL, f"{phone}:{code}")


def seal(code: str) -> str:
    """Encrypt a code for the delivery task, so the broker (Redis too) never holds it in clear."""
    return codes.seal(SEAL_LABEL, code)


def unseal(token: str) -> str | None:
    """The code a delivery task carries; None if the token is not ours or is older than the code's life."""
    return codes.unseal(SEAL_LABEL, token, current_app.config["PHONE_CODE_TTL_SECONDS"])
