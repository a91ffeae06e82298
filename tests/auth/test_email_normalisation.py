"""One normalisation of email addresses for storage, lookup and the failed-login limits (SPEC 4).

Every spelling of an address that reaches an account counts against that account's windows, the
15-minute one (account and address) and the daily one (account, every address), on SQLite and on
PostgreSQL, whose lower() differ outside ASCII (PostgreSQL makes U+0130 an ``i``; SQLite leaves it).
"""

import pytest

from tests.accounts import PASSWORD, sign_up_on
from tests.errors import assert_field_error

ACCOUNT = "kiki@example.com"
# Spellings that are the account: case, spaces, a Kelvin sign (canonically K), a full-width or
# non-ASCII domain as IDNA reads it.
SAME = ["KIKI@EXAMPLE.COM", "  kiki@example.com ", "\u212aiki@example.com", "kiki@\uff45xample.com",
        "Kiki@EXAMPLE.\uff23\uff2f\uff2d"]
# Spellings whose local part is not ASCII: no account can have one, so they are refused outright
# (U+0130 is "i" to PostgreSQL's lower(), "i" and a combining dot to Python's; a full-width k; an
# eszett, which casefold() would make "ss").
REFUSED = ["k\u0130ki@example.com", "\uff4biki@example.com", "kik\u00df@example.com"]
OTHER_ADDRESS = {"REMOTE_ADDR": "192.0.2.77"}


def login(client, email, password, address="192.0.2.1"):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.stack)])
def limited(request, make_app):
    """An app with small limits (3 per account and address, 5 per account) on either database."""
    limits = {"LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS": 3, "LOGIN_FAILURES_PER_ACCOUNT": 5,
              "LOGIN_FAILURES_PER_ADDRESS": 50}
    if request.param == "sqlite":
        return make_app(**limits).test_client()
    app = request.getfixturevalue("pg_app")
    app.config.update(limits)
    return app.test_client()


def spend_the_quarter_hour(client, email):
    """Three wrong passwords from one address: the 15-minute window of the account and that address is full."""
    return [login(client, email, "not the password").status_code for _ in range(3)]


def spend_the_day(client, email):
    """Five wrong passwords from five addresses: only the account's daily window is full."""
    return [login(client, email, "not the password", f"198.51.100.{n}").status_code for n in range(1, 6)]


@pytest.mark.parametrize("spelling", SAME)
def test_each_spelling_of_an_account_signs_in(limited, spelling):
    sign_up_on(limited, ACCOUNT, PASSWORD)
    assert login(limited, spelling, PASSWORD).status_code == 200


@pytest.mark.parametrize("spelling", SAME)
@pytest.mark.parametrize("spend", [spend_the_quarter_hour, spend_the_day], ids=["15-minute", "daily"])
def test_failures_under_any_spelling_fill_the_accounts_windows(limited, spelling, spend):
    sign_up_on(limited, ACCOUNT, PASSWORD)
    assert set(spend(limited, spelling)) == {401}
    address = "192.0.2.1" if spend is spend_the_quarter_hour else "203.0.113.9"
    assert login(limited, ACCOUNT, PASSWORD, address).status_code == 429


@pytest.mark.parametrize("spelling", SAME + REFUSED)
@pytest.mark.parametrize("spend", [spend_the_quarter_hour, spend_the_day], ids=["15-minute", "daily"])
def test_no_spelling_opens_a_fresh_window_on_a_spent_account(limited, spelling, spend):
    """The finding: with the account's windows full, a login written with U+0130 for an i got in."""
    sign_up_on(limited, ACCOUNT, PASSWORD)
    assert set(spend(limited, ACCOUNT)) == {401}
    address = "192.0.2.1" if spend is spend_the_quarter_hour else "203.0.113.9"
    answer = login(limited, spelling, PASSWORD, address)
    # A spelling that cannot reach the account (outside ASCII before the @) is an unknown address: 401.
    assert answer.status_code == (429 if spelling in SAME else 401), answer.json


@pytest.mark.parametrize("spelling", REFUSED)
def test_a_local_part_outside_ascii_is_422_at_signup_and_an_unknown_address_at_login(limited, spelling):
    signup = limited.post("/api/v1/auth/signup", json={"email": spelling, "password": PASSWORD})
    assert_field_error(signup, "email")
    answer = login(limited, spelling, PASSWORD)
    assert (answer.status_code, answer.json["error"]["code"]) == (401, "invalid_credentials")


@pytest.mark.parametrize("spelling", SAME)
def test_an_account_is_taken_under_every_spelling(limited, spelling):
    sign_up_on(limited, ACCOUNT, PASSWORD)
    again = limited.post("/api/v1/auth/signup", json={"email": spelling, "password": PASSWORD})
    assert (again.status_code, again.json["error"]["code"]) == (409, "email_taken")


def test_an_address_is_stored_as_normalised(limited):
    user, _ = sign_up_on(limited, "  \u212aiki@B\u00fcCHER.example ", PASSWORD)
    assert user["email"] == "Kiki@xn--bcher-kva.example"
    assert login(limited, "kiki@b\u00fccher.example", PASSWORD).status_code == 200
