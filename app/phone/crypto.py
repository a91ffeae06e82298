"""The keys of phone codes, derived from SECRET_KEY: the digest a code is stored as, and the seal it travels under."""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def code_digest(phone: str, code: str) -> str:
    """The keyed hash a code is stored as: HMAC-SHA256 under a key derived from SECRET_KEY."""
    key = hashlib.sha256(b"agora phone code:" + current_app.config["SECRET_KEY"].encode()).digest()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _fernet() -> Fernet:
    key = hashlib.sha256(b"agora sealed sms:" + current_app.config["SECRET_KEY"].encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(code: str) -> str:
    """Encrypt a code for the delivery task, so the broker (Redis too) never holds it in clear."""
    return _fernet().encrypt(code.encode()).decode()


def unseal(token: str) -> str | None:
    """The code a delivery task carries; None if the token is not ours or is older than the code's life."""
    try:
        return _fernet().decrypt(token.encode(), ttl=current_app.config["PHONE_CODE_TTL_SECONDS"]).decode()
    except InvalidToken:
        return None
