"""Credential changes re-authenticate (SPEC 4): a token alone changes the name, never the email or password."""

import pytest
from app.auth.tokens import issue_tokens

from app.extensions import db
from app.users.models import User
from tests.accounts import PASSWORD, bearer, sign_up_on
from tests.errors import ME, assert_error, assert_field_error
from tests.factories import UserFactory, issue_code

PHONE = "+79991234567"


def login(client, email, password=PASSWORD):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


@pytest.fixture
def limited(make_app):
    """An app with small failed-login limits: 3 per account and address, 5 per account, 6 per address."""
    return make_app(LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS=3, LOGIN_FAILURES_PER_ACCOUNT=5,
                    LOGIN_FAILURES_PER_ADDRESS=6).test_client()


@pytest.fixture
def phone_user(app, auth_headers):
    """A phone-only account (no email, no password), and a way to send its phone a code as the code route does."""
    with app.app_context():
        user = UserFactory(email=None, password_hash=None, phone=PHONE)
        headers = auth_headers(user.id)

    def fresh_code() -> str:
        with app.app_context():
            return issue_code(PHONE)

    return headers, fresh_code


@pytest.mark.parametrize("change", [{"email": "new@example.com"}, {"password": "a fresh passphrase"},
                                    {"email": "new@example.com", "name": "Ann"}])
def test_an_email_or_password_change_without_the_current_password_is_422_naming_it(client, sign_up, change):
    _, headers = sign_up(email="ann@example.com")
    response = client.patch(ME, json=change, headers=headers)
    assert_field_error(response, "current_password")
    assert client.get(ME, headers=headers).json["email"] == "ann@example.com"


def test_a_wrong_current_password_is_422_naming_it_and_changes_nothing(client, sign_up):
    _, headers = sign_up(email="ann@example.com")
    response = client.patch(ME, json={"email": "thief@example.com", "current_password": "not the password"},
                            headers=headers)
    assert assert_field_error(response, "current_password") == ["Wrong password."]
    assert client.get(ME, headers=headers).json["email"] == "ann@example.com"  # and the session still works
    assert login(client, "ann@example.com").status_code == 200


def test_the_right_current_password_changes_the_email(client, sign_up):
    _, headers = sign_up(email="ann@example.com")
    response = client.patch(ME, json={"email": "ann.new@example.com", "current_password": PASSWORD}, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["email"] == "ann.new@example.com"
    assert client.get(ME, headers=bearer(response.json["access_token"])).status_code == 200


def test_a_taken_email_without_the_current_password_is_422_not_409(client, sign_up):
    sign_up(email="taken@example.com")
    _, headers = sign_up(email="mine@example.com")
    # A stolen token learns nothing about which addresses have accounts.
    assert_field_error(client.patch(ME, json={"email": "taken@example.com"}, headers=headers), "current_password")


def test_a_name_only_change_needs_nothing_more(client, sign_up):
    _, headers = sign_up(name="Ann")
    response = client.patch(ME, json={"name": "Ann Lee"}, headers=headers)
    assert response.status_code == 200 and response.json["name"] == "Ann Lee"


def test_wrong_current_passwords_count_as_failed_logins_until_429(limited):
    _, headers = sign_up_on(limited, "ann@example.com", PASSWORD)
    wrong = [limited.patch(ME, json={"password": "a fresh passphrase", "current_password": f"guess {n}"},
                           headers=headers) for n in range(3)]
    right = limited.patch(ME, json={"password": "a fresh passphrase", "current_password": PASSWORD}, headers=headers)
    assert [answer.status_code for answer in wrong] == [422, 422, 422]
    error = assert_error(right, 429, "too_many_failed_logins")
    assert error["retry_after"] == int(right.headers["Retry-After"]) > 0
    # The same windows as login: the account's login is throttled too.
    assert login(limited, "ann@example.com").status_code == 429


def test_failed_logins_count_against_a_re_authentication(limited):
    _, headers = sign_up_on(limited, "ann@example.com", PASSWORD)
    for _ in range(3):
        assert login(limited, "ann@example.com", "not the password").status_code == 401
    answer = limited.patch(ME, json={"email": "ann.new@example.com", "current_password": PASSWORD}, headers=headers)
    assert_error(answer, 429, "too_many_failed_logins")


def test_a_right_current_password_takes_its_place_back(limited):
    _, headers = sign_up_on(limited, "ann@example.com", PASSWORD)
    for n in range(4):
        answer = limited.patch(ME, json={"email": f"ann{n}@example.com", "current_password": PASSWORD},
                               headers=headers)
        assert answer.status_code == 200, answer.json
        headers = bearer(answer.json["access_token"])


def test_a_phone_only_account_adds_an_email_and_password_with_a_fresh_phone_code(client, phone_user):
    headers, fresh_code = phone_user
    code = fresh_code()
    response = client.patch(ME, json={"email": "phone.person@example.com", "password": "a fresh passphrase",
                                      "phone_code": code}, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["email"] == "phone.person@example.com"
    assert login(client, "phone.person@example.com", "a fresh passphrase").status_code == 200


def test_a_phone_only_account_without_a_phone_code_is_422_naming_it(client, phone_user):
    headers, _ = phone_user
    for change in ({"email": "thief@example.com"}, {"password": "a fresh passphrase"},
                   {"password": "a fresh passphrase", "current_password": "anything at all"}):
        assert_field_error(client.patch(ME, json=change, headers=headers), "phone_code")
    assert client.get(ME, headers=headers).json["email"] is None


def test_a_wrong_phone_code_is_422_naming_it_with_the_attempts_left(client, phone_user):
    headers, fresh_code = phone_user
    code = fresh_code()
    wrong = "0000" if code != "0000" else "1111"
    response = client.patch(ME, json={"email": "thief@example.com", "phone_code": wrong}, headers=headers)
    assert assert_field_error(response, "phone_code") == ["Wrong code. Attempts left: 4."]
    assert client.get(ME, headers=headers).json["email"] is None


def test_a_phone_code_is_spent_by_the_change(client, phone_user):
    headers, fresh_code = phone_user
    code = fresh_code()
    first = client.patch(ME, json={"email": "phone.person@example.com", "phone_code": code}, headers=headers)
    assert first.status_code == 200, first.json
    again = client.patch(ME, json={"email": "other@example.com", "phone_code": code},
                         headers=bearer(first.json["access_token"]))
    assert_field_error(again, "phone_code")


def test_wrong_phone_codes_count_as_failed_logins_until_429(make_app):
    app = make_app(LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS=2)
    client = app.test_client()
    with app.app_context():
        user = UserFactory(email=None, password_hash=None, phone=PHONE)
        headers = bearer(issue_tokens(user.id)["access_token"])
        code = issue_code(PHONE)
    wrong = "0000" if code != "0000" else "1111"
    answers = [client.patch(ME, json={"email": "thief@example.com", "phone_code": wrong}, headers=headers)
               for _ in range(2)]
    assert [answer.status_code for answer in answers] == [422, 422]
    right = client.patch(ME, json={"email": "thief@example.com", "phone_code": code}, headers=headers)
    assert_error(right, 429, "too_many_failed_logins")
    with app.app_context():
        assert db.session.get(User, user.id).email is None


def test_an_address_refused_for_its_form_does_not_spend_the_phone_code(client, phone_user):
    headers, fresh_code = phone_user
    code = fresh_code()
    refused = client.patch(ME, json={"email": "k\u0130ki@example.com", "phone_code": code}, headers=headers)
    assert_field_error(refused, "email")
    accepted = client.patch(ME, json={"email": "kiki@example.com", "phone_code": code}, headers=headers)
    assert accepted.status_code == 200, accepted.json
