"""Password hashing with argon2id, its cost taken from configuration."""

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


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
