"""The pure rules of accounts: invite codes are 6 characters of digits and upper-case letters, drawn with ``secrets``."""

import secrets
import string

ALPHABET = string.digits + string.ascii_uppercase
LENGTH = 6


def new_invite_code() -> str:
    """A fresh random code; uniqueness is the database's job (a unique key, retried on collision)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize_invite_code(code: str) -> str:
    """Codes are case-insensitive: compare them upper-cased and trimmed."""
    return code.strip().upper()


def is_well_formed(code: str) -> bool:
    return len(code) == LENGTH and all(char in ALPHABET for char in code)
