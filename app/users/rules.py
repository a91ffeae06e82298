"""The pure rules of accounts: what an email address is, once normalised; invite codes are 6 characters
of digits and upper-case letters, drawn with ``secrets``."""

import secrets
import string
import unicodedata

from app.core.errors import ValidationFailed

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


# --- email addresses: one normalisation for storage, lookup and limits ---------------------------------

NOT_ASCII = "Write the part before the @ in ASCII letters, digits and symbols."
NOT_AN_ADDRESS = "Not a valid email address."


def canonical_email(email: str) -> str:
    """The address trimmed, in Unicode's composed form (NFC), its domain lower-case ASCII (IDNA); never refuses.

    NFC makes canonically equal text one string: a Kelvin sign (U+212A) is the letter K. The
    domain is what DNS looks up: ``Bücher.example`` is ``xn--bcher-kva.example``. A domain IDNA
    cannot encode is kept lower-cased (it names no account: storage refuses it).
    """
    local, _, domain = unicodedata.normalize("NFC", email.strip()).rpartition("@")
    try:
        domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    return f"{local}@{domain.lower()}"


def normalize_email(email: str) -> str:
    """The address as stored: ``canonical_email``, its local part kept as written, and that part ASCII only.

    A local part outside ASCII is refused (422 naming ``email``): its case-folding differs between SQLite,
    PostgreSQL and Python (U+0130), so one account could answer to spellings its login limits count apart.
    """
    address = canonical_email(email)
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        raise ValidationFailed(fields={"email": [NOT_ASCII]})
    if not domain.isascii():
        raise ValidationFailed(fields={"email": [NOT_AN_ADDRESS]})
    return address


def email_key(email: str) -> str:
    """Who an address is: what lookups compare with ``lower(email)`` and the failed-login windows hash.

    Every stored address is ASCII (``normalize_email``), where Python's, SQLite's and PostgreSQL's
    lower() agree: so an account answers to exactly the spellings whose key is its address's
    lower-case, and those spellings share its windows. Never refuses: a key outside ASCII names no account.
    """
    return canonical_email(email).lower()
