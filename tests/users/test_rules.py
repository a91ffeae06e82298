"""Invite code rules."""

from app.users.rules import ALPHABET, is_well_formed, new_invite_code, normalize_invite_code


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
