"""Passwords: hashing with argon2id (its cost taken from configuration), and what a new one must be."""

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from marshmallow import ValidationError, fields, validate

MIN_LENGTH, MAX_LENGTH = 8, 128


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher() -> PasswordHasher:
    config = current_app.config
    return _hasher(config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_KIB"],
                   config["PASSWORD_HASH_PARALLELISM"])


@lru_cache(maxsize=8)
def _decoy_hash(ph: PasswordHasher) -> str:
    return ph.hash("a password nobody has")


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown email) spend the same time on a decoy, then fail."""
    ph = hasher()
    try:
        return ph.verify(password_hash or _decoy_hash(ph), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than the configured ones."""
    return hasher().check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 30,000 most used passwords (zxcvbn's list, from leaked sets) long enough to be accepted."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # slow to import: once per process, when first needed

    return frozenset(word for word in FREQUENCY_LISTS["passwords"] if len(word) >= MIN_LENGTH)


def refuse_common_password(password: str) -> None:
    """NIST 800-63B: a password found in lists of commonly used ones is refused (any case)."""
    if password.lower() in common_passwords():
        raise ValidationError("This password is one of the most commonly used: choose another.")


def new_password_field(**kwargs) -> fields.String:
    """A password being chosen: 8..128 characters, kept as typed, not a commonly used one."""
    return fields.String(validate=[validate.Length(min=MIN_LENGTH, max=MAX_LENGTH), refuse_common_password],
                         load_only=True, **kwargs)
