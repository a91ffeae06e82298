"""Account rules: invite codes, and the one normalisation of email addresses."""

import pytest

from app.core.errors import ValidationFailed
from app.users.rules import ALPHABET, email_key, is_well_formed, new_invite_code, normalize_email, normalize_invite_code


def test_a_new_code_is_six_digits_or_capital_letters():
    for _ in range(200):
        code = new_invite_code()
        assert len(code) == 6
        assert set(code) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def test_codes_draw_from_the_whole_alphabet():
    seen = set("".join(new_invite_code() for _ in range(2000)))
    assert seen == set(ALPHABET)


def test_codes_are_compared_case_insensitively():
    assert normalize_invite_code(" ab12cd ") == "AB12CD"


def test_well_formed_codes():
    assert is_well_formed("AB12CD")
    assert not is_well_formed("AB12C")
    assert not is_well_formed("ab12cd")
    assert not is_well_formed("AB12C!")


# --- email addresses ---

@pytest.mark.parametrize("written, stored", [
    ("  Ann@EXAMPLE.com ", "Ann@example.com"),  # trimmed; the local part as written, the domain lower-case
    ("\u212aate@example.com", "Kate@example.com"),  # Kelvin sign: canonically the letter K (NFC)
    ("ann@B\u00fcCHER.example", "ann@xn--bcher-kva.example"),  # the domain as DNS looks it up (IDNA)
    ("ann@\uff45xample.\uff23\uff2f\uff2d", "ann@example.com"),  # full-width domain: IDNA maps it to ASCII
])
def test_an_address_is_stored_trimmed_composed_with_an_ascii_domain(written, stored):
    assert normalize_email(written) == stored
    assert email_key(written) == stored.lower()


@pytest.mark.parametrize("written", ["k\u0130ki@example.com", "stra\u00dfe@example.com", "\uff4biki@example.com",
                                     "j\u00f6rg@example.com"])
def test_a_local_part_outside_ascii_is_refused_naming_the_email(written):
    with pytest.raises(ValidationFailed) as refused:
        normalize_email(written)
    assert list(refused.value.fields) == ["email"]


def test_a_domain_idna_cannot_encode_is_refused():
    with pytest.raises(ValidationFailed):
        normalize_email("ann@b\u00fc..example")


@pytest.mark.parametrize("written", ["k\u0130ki@example.com", "stra\u00dfe@example.com", "ann@b\u00fc..example", "noat"])
def test_the_key_never_refuses(written):
    assert email_key(written)


def test_every_stored_address_is_its_own_key_lower_cased_so_sql_lower_agrees():
    for written in ("Ann@EXAMPLE.com", "\u212aate@example.com", "x@B\u00fcCHER.example", "O'Brien+Tag@Example.ORG"):
        stored = normalize_email(written)
        assert stored.isascii() and email_key(stored) == email_key(written) == stored.lower()
