"""Proving an address (SPEC 4) through the API: the confirmation code, its rules, and the dev mail outbox."""

import pytest

from app.auth.tokens import issue_tokens

from app.config import ConfigError
from app.extensions import db
from tests.accounts import PASSWORD, bearer, sign_up_on
from tests.core.test_production import PRODUCTION, loaded
from tests.factories import UserFactory
from tests.mail.outbox import end_cooldown, mail_outbox, mailed_code, wrong

EMAIL = "ada@example.com"
CONFIRM, CODE = "/api/v1/auth/email/confirm", "/api/v1/auth/email/code"


def confirm(client, headers, code):
    return client.post(CONFIRM, json={"code": code}, headers=headers)


def error(response) -> tuple[int, str]:
    return response.status_code, response.json["error"]["code"]


def test_signup_leaves_the_address_unconfirmed_and_mails_it_a_code(client):
    user, headers = sign_up_on(client, EMAIL)
    assert (user["email_confirmed"], user["enrichment_status"]) == (False, "unconfirmed")
    [mail] = mail_outbox(client, EMAIL).json["items"]
    assert (mail["email"], mail["subject"]) == (EMAIL, "Confirm your Agora address")
    assert "expires in 15 minutes" in mail["body"]
    assert client.get("/api/v1/users/me", headers=headers).json["email_confirmed"] is False


def test_the_mailed_code_confirms_the_address_once(client):
    _, headers = sign_up_on(client, EMAIL)
    code = mailed_code(client, EMAIL)
    response = confirm(client, headers, code)
    assert response.status_code == 200
    assert (response.json["email"], response.json["email_confirmed"]) == (EMAIL, True)
    assert response.json["enrichment_status"] == "skipped"  # no provider key in this app
    assert client.get("/api/v1/users/me", headers=headers).json["email_confirmed"] is True
    assert error(confirm(client, headers, code)) == (409, "email_already_confirmed")


def test_a_wrong_code_is_400_invalid_code_with_attempts_left(client):
    _, headers = sign_up_on(client, EMAIL)
    response = confirm(client, headers, wrong(mailed_code(client, EMAIL)))
    assert error(response) == (400, "invalid_code")
    assert response.json["error"]["attempts_left"] == 4


def test_fifth_wrong_code_burns_the_code(client):
    _, headers = sign_up_on(client, EMAIL)
    code = mailed_code(client, EMAIL)
    for _ in range(4):
        assert error(confirm(client, headers, wrong(code))) == (400, "invalid_code")
    assert error(confirm(client, headers, wrong(code))) == (429, "too_many_attempts")
    assert error(confirm(client, headers, code)) == (400, "code_expired")


def test_a_new_code_comes_after_the_cooldown_and_replaces_the_old_one(client):
    _, headers = sign_up_on(client, EMAIL)
    first = mailed_code(client, EMAIL)
    too_soon = client.post(CODE, headers=headers)
    assert error(too_soon) == (429, "resend_too_soon")
    assert 0 < int(too_soon.headers["Retry-After"]) <= 60
    end_cooldown(client, EMAIL)
    sent = client.post(CODE, headers=headers)
    assert sent.status_code == 202
    assert sent.json == {"email": EMAIL, "expires_in": 900, "resend_after": 60}
    second = mailed_code(client, EMAIL, count=2)
    if first != second:
        assert error(confirm(client, headers, first)) == (400, "invalid_code")
    assert confirm(client, headers, second).status_code == 200


def test_a_confirmed_address_asks_for_no_code(client):
    _, headers = sign_up_on(client, EMAIL)
    assert confirm(client, headers, mailed_code(client, EMAIL)).status_code == 200
    assert error(client.post(CODE, headers=headers)) == (409, "email_already_confirmed")


def test_an_account_without_email_has_nothing_to_confirm(client):
    with client.application.app_context():
        user = UserFactory(email=None, phone="+79991234567")
        db.session.commit()
        headers = bearer(issue_tokens(user.id)["access_token"])
    assert error(client.post(CODE, headers=headers)) == (409, "no_email")
    assert error(confirm(client, headers, "123456")) == (409, "no_email")


def test_both_routes_need_a_token(client):
    assert client.post(CODE).status_code == 401
    assert client.post(CONFIRM, json={"code": "123456"}).status_code == 401


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "１２３４５６", 123456, "123456\n"])
def test_a_code_that_is_not_6_ascii_digits_is_422(client, code):
    _, headers = sign_up_on(client, EMAIL)
    response = confirm(client, headers, code)
    assert error(response) == (422, "validation_error")
    assert "code" in response.json["error"]["fields"]


def test_an_email_change_mails_the_new_address_and_unconfirms_the_account(client):
    _, headers = sign_up_on(client, EMAIL)
    assert confirm(client, headers, mailed_code(client, EMAIL)).status_code == 200
    changed = client.patch("/api/v1/users/me", json={"email": "ada@new.example", "current_password": PASSWORD},
                           headers=headers)
    assert changed.status_code == 200
    assert (changed.json["email_confirmed"], changed.json["enrichment_status"]) == (False, "unconfirmed")
    headers = bearer(changed.json["access_token"])
    assert confirm(client, headers, mailed_code(client, "ada@new.example")).json["email_confirmed"] is True


@pytest.mark.parametrize("backend", ["console", "smtp"])
def test_the_mail_outbox_route_and_operation_exist_only_under_the_outbox_backend(mail_app, backend):
    client = mail_app(MAIL_BACKEND=backend, SMTP_HOST="127.0.0.1", SMTP_FROM="agora@example.com").test_client()
    response = client.get("/api/v1/dev/mail-outbox", query_string={"email": EMAIL})
    assert error(response) == (404, "not_found")
    assert "/api/v1/dev/mail-outbox" not in client.get("/openapi.json").json["paths"]


def test_the_outbox_backend_serves_the_mail_outbox_and_documents_it(client):
    assert "/api/v1/dev/mail-outbox" in client.get("/openapi.json").json["paths"]
    assert client.get("/api/v1/dev/mail-outbox", query_string={"email": EMAIL}).json == {"items": []}
    assert client.get("/api/v1/dev/mail-outbox", query_string={"email": "nope"}).json == {"items": []}
    assert error(client.get("/api/v1/dev/mail-outbox")) == (422, "validation_error")


def test_the_outbox_is_newest_first_whatever_the_spelling_asked(client):
    _, headers = sign_up_on(client, EMAIL)
    end_cooldown(client, EMAIL)
    client.post(CODE, headers=headers)
    mailed_code(client, "ADA@Example.com", count=2)
    items = mail_outbox(client, "ADA@Example.com").json["items"]
    assert len(items) == 2 and items[0]["created_at"] > items[1]["created_at"]


@pytest.mark.parametrize("backend", ["console", "outbox", None])
def test_production_refuses_every_mail_backend_but_smtp(tmp_path, backend):
    environ = {**PRODUCTION, "MAIL_BACKEND": backend} if backend else {
        key: value for key, value in PRODUCTION.items() if key != "MAIL_BACKEND"}
    with pytest.raises(ConfigError, match=f"MAIL_BACKEND={backend or 'unset'} would let others read the codes"):
        loaded(environ, tmp_path)


@pytest.mark.parametrize("missing", ["SMTP_HOST", "SMTP_FROM"])
def test_the_smtp_backend_needs_a_host_and_a_sender(tmp_path, missing):
    environ = {key: value for key, value in PRODUCTION.items() if key != missing}
    with pytest.raises(ConfigError, match=f"MAIL_BACKEND=smtp needs {missing}"):
        loaded(environ, tmp_path)


def test_the_mail_settings_are_read_from_the_environment(tmp_path):
    config = loaded({"MAIL_BACKEND": "SMTP", "SMTP_HOST": "mail.example.com", "SMTP_PORT": "2525",
                     "SMTP_USERNAME": "agora", "SMTP_PASSWORD": "s3cret", "SMTP_FROM": "Agora <agora@example.com>",
                     "SMTP_STARTTLS": "false", "EMAIL_CODE_TTL_SECONDS": "600", "EMAIL_CODE_RESEND_SECONDS": "30",
                     "EMAIL_CODE_MAX_ATTEMPTS": "3", "EMAIL_CODES_PER_HOUR": "4"}, tmp_path)
    assert (config["MAIL_BACKEND"], config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_STARTTLS"]) == (
        "smtp", "mail.example.com", 2525, False)
    assert (config["SMTP_USERNAME"], config["SMTP_PASSWORD"], config["SMTP_FROM"]) == (
        "agora", "s3cret", "Agora <agora@example.com>")
    assert [config[f"EMAIL_CODE{name}"] for name in ("_TTL_SECONDS", "_RESEND_SECONDS", "_MAX_ATTEMPTS", "S_PER_HOUR")] == [
        600, 30, 3, 4]
    defaults = loaded({}, tmp_path)
    assert (defaults["MAIL_BACKEND"], defaults["SMTP_PORT"], defaults["SMTP_STARTTLS"],
            defaults["EMAIL_CODE_TTL_SECONDS"]) == ("console", 587, True, 900)


def test_a_code_that_cannot_be_queued_leaves_the_signup_saved_and_no_cooldown(client, monkeypatch):
    monkeypatch.setattr("app.mail.services.enqueue", lambda function, *args: False)  # the broker is down
    user, headers = sign_up_on(client, EMAIL)
    assert user["email_confirmed"] is False
    refused = client.post(CODE, headers=headers)
    assert error(refused) == (503, "service_unavailable") and refused.headers["Retry-After"] == "5"
    monkeypatch.undo()
    assert client.post(CODE, headers=headers).status_code == 202  # no code was issued: no cooldown to wait out
    assert confirm(client, headers, mailed_code(client, EMAIL)).json["email_confirmed"] is True
