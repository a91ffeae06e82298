"""Phone sign-in by SMS code (SPEC 5) through the API, on the outbox backend unless a test says otherwise."""

import hashlib
import logging
import re
import time

import pytest
from sqlalchemy import func, select

from app.phone.crypto import code_digest, seal, unseal
from app.extensions import db, redis_store
from app.phone.services import deliver_code_attempt
from app.users.models import User
from tests.accounts import PASSWORD, bearer, sign_up_on
from tests.conftest import teardown_app
from tests.fakes import TWILIO_MESSAGES, Answer
from tests.outboxes import newest_code

PHONE = "+79991234567"
CODE_RE = re.compile(r"Your Agora code is (\d{4})\.")


@pytest.fixture
def phone_app(make_app):
    """Builds an app with the outbox backend and no gateway delay; overrides per test."""
    return lambda **overrides: make_app(**{"SMS_BACKEND": "outbox", "SMS_DELAY_SECONDS": (0.0, 0.0), **overrides})


@pytest.fixture
def client(phone_app):
    return phone_app().test_client()


def request_code(client, phone=PHONE):
    return client.post("/api/v1/auth/phone/code", json={"phone": phone})


def outbox(client, phone=PHONE):
    return client.get("/api/v1/dev/sms-outbox", query_string={"phone": phone})


def delivered_code(client, phone=PHONE, *, count=1, timeout=5.0) -> str:
    """Wait for the ``count``-th message to ``phone`` in the outbox and return the newest code."""
    return newest_code(lambda: outbox(client, phone).json["items"], CODE_RE, count=count, timeout=timeout, what="SMS")


def verify(client, code, phone=PHONE, headers=None):
    return client.post("/api/v1/auth/phone/verify", json={"phone": phone, "code": code}, headers=headers or {})


def end_cooldown(client, phone=PHONE) -> None:
    """Let a test ask for a second code at once, as if the resend cooldown had passed."""
    with client.application.app_context():
        redis_store.client.delete(redis_store.key("phone", phone, "cooldown"))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10_000:04d}"


def test_request_answers_202_with_the_normalised_phone_and_no_code(client):
    response = request_code(client, "+7 (999) 123-45-67")
    assert response.status_code == 202
    assert response.json == {"phone": PHONE, "expires_in": 300, "resend_after": 60}


def test_the_whole_flow_creates_the_user_then_logs_them_in(client):
    request_code(client)
    first = verify(client, delivered_code(client))
    assert first.status_code == 200
    assert first.json["created"] is True
    user = first.json["user"]
    assert user["phone"] == PHONE and user["email"] is None
    assert re.fullmatch(r"[0-9A-Z]{6}", user["invite_code"])
    headers = bearer(first.json["access_token"])
    assert client.get("/api/v1/users/me", headers=headers).json["phone"] == PHONE

    end_cooldown(client)
    request_code(client)
    again = verify(client, delivered_code(client, count=2))
    assert (again.status_code, again.json["created"], again.json["user"]["id"]) == (200, False, user["id"])


def test_the_code_is_in_no_response(client):
    first = request_code(client)
    code = delivered_code(client)
    wrong_answer = verify(client, wrong(code))
    assert code not in first.get_data(as_text=True)
    assert code not in wrong_answer.get_data(as_text=True)


def test_the_code_is_stored_only_as_a_keyed_hash(client, phone_app):
    request_code(client)
    code = delivered_code(client)
    app = client.application
    with app.app_context():
        stored = redis_store.client.hgetall(redis_store.key("phone", PHONE, "code"))
    assert set(stored) == {"digest", "attempts"}
    with app.app_context():
        assert stored["digest"] == code_digest(PHONE, code)
    assert stored["digest"] != hashlib.sha256(code.encode()).hexdigest()  # keyed, not a bare hash


def test_wrong_codes_count_down_and_the_fifth_burns_the_code(client):
    request_code(client)
    code = delivered_code(client)
    lefts = [verify(client, wrong(code)).json["error"]["attempts_left"] for _ in range(4)]
    assert lefts == [4, 3, 2, 1]
    fifth = verify(client, wrong(code))
    assert (fifth.status_code, fifth.json["error"]["code"]) == (429, "too_many_attempts")
    burned = verify(client, code)
    assert (burned.status_code, burned.json["error"]["code"]) == (400, "code_expired")


def test_a_wrong_code_is_400_invalid_code(client):
    request_code(client)
    response = verify(client, wrong(delivered_code(client)))
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_code"


def test_a_code_works_once(client):
    request_code(client)
    code = delivered_code(client)
    assert verify(client, code).status_code == 200
    reused = verify(client, code)
    assert (reused.status_code, reused.json["error"]["code"]) == (400, "code_expired")


def test_an_expired_code_is_refused(phone_app):
    client = phone_app(PHONE_CODE_TTL_SECONDS=1).test_client()
    request_code(client)
    code = delivered_code(client)
    time.sleep(1.1)
    response = verify(client, code)
    assert (response.status_code, response.json["error"]["code"]) == (400, "code_expired")


def test_no_code_at_all_is_code_expired(client):
    response = verify(client, "1234")
    assert (response.status_code, response.json["error"]["code"]) == (400, "code_expired")


def test_a_code_for_another_phone_does_not_sign_in(client):
    request_code(client)
    code = delivered_code(client)
    response = verify(client, code, phone="+79997654321")
    assert (response.status_code, response.json["error"]["code"]) == (400, "code_expired")
    assert verify(client, code).status_code == 200


def test_resending_too_soon_is_429_with_retry_after(client):
    request_code(client)
    response = request_code(client)
    assert response.status_code == 429
    assert response.json["error"]["code"] == "resend_too_soon"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.json["error"]["retry_after"] == int(response.headers["Retry-After"])


def test_a_code_that_cannot_be_queued_is_withdrawn_and_503(client, monkeypatch):
    monkeypatch.setattr("app.phone.services.enqueue", lambda function, *args: False)
    for _ in range(2):  # no cooldown was left behind: the second try is not resend_too_soon
        response = request_code(client)
        assert (response.status_code, response.json["error"]["code"]) == (503, "service_unavailable")
        assert response.headers["Retry-After"] == "5"
    assert verify(client, "1234").json["error"]["code"] == "code_expired"


def test_a_new_code_replaces_the_old_one(phone_app):
    client = phone_app(PHONE_CODE_RESEND_SECONDS=0).test_client()
    request_code(client)
    old = delivered_code(client)
    request_code(client)
    new = delivered_code(client, count=2)
    if old != new:
        assert verify(client, old).json["error"]["code"] == "invalid_code"
    assert verify(client, new).status_code == 200


def test_at_most_five_codes_per_phone_per_hour(phone_app):
    client = phone_app(PHONE_CODE_RESEND_SECONDS=0).test_client()
    assert [request_code(client).status_code for _ in range(5)] == [202] * 5
    sixth = request_code(client)
    assert (sixth.status_code, sixth.json["error"]["code"]) == (429, "too_many_codes")
    assert 3500 < int(sixth.headers["Retry-After"]) <= 3600


def test_the_per_address_limit(phone_app):
    client = phone_app(PHONE_REQUESTS_PER_IP_PER_HOUR=3).test_client()
    phones = ["+79990000001", "+79990000002", "+79990000003", "+79990000004"]
    answers = [request_code(client, phone) for phone in phones]
    assert [answer.status_code for answer in answers] == [202, 202, 202, 429]
    assert answers[-1].json["error"]["code"] == "rate_limited"
    other_address = client.post("/api/v1/auth/phone/code", json={"phone": phones[-1]},
                                environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other_address.status_code == 202


def test_verifications_have_a_per_address_limit_too(phone_app):
    client = phone_app(PHONE_REQUESTS_PER_IP_PER_HOUR=2).test_client()
    codes = [verify(client, "1234", phone).json["error"]["code"] for phone in ("+79990000001", "+79990000002",
                                                                             "+79990000003")]
    assert codes == ["code_expired", "code_expired", "rate_limited"]


def test_ratelimit_disabled_turns_the_per_address_limits_off(phone_app):
    client = phone_app(RATELIMIT_ENABLED=False, PHONE_REQUESTS_PER_IP_PER_HOUR=1).test_client()
    requests = [request_code(client, f"+7999000000{n}") for n in range(1, 5)]
    checks = [verify(client, "1234", f"+7999000001{n}") for n in range(1, 5)]
    assert {answer.status_code for answer in requests} == {202}
    assert {answer.json["error"]["code"] for answer in checks} == {"code_expired"}


def test_ratelimit_disabled_keeps_the_resend_cooldown(phone_app):
    client = phone_app(RATELIMIT_ENABLED=False).test_client()
    first, second = request_code(client), request_code(client)
    assert (first.status_code, first.json["resend_after"]) == (202, 60)
    assert (second.status_code, second.json["error"]["code"]) == (429, "resend_too_soon")


def test_ratelimit_disabled_keeps_the_hourly_cap_per_phone(phone_app):
    client = phone_app(RATELIMIT_ENABLED=False, PHONE_CODE_RESEND_SECONDS=0).test_client()
    answers = [request_code(client) for _ in range(6)]
    assert [answer.status_code for answer in answers] == [202] * 5 + [429]
    assert answers[-1].json["error"]["code"] == "too_many_codes"


def test_ratelimit_disabled_keeps_the_attempt_limit(phone_app):
    client = phone_app(RATELIMIT_ENABLED=False).test_client()
    request_code(client)
    code = delivered_code(client)
    answers = [verify(client, wrong(code)) for _ in range(5)]
    assert answers[-1].json["error"]["code"] == "too_many_attempts"
    assert verify(client, code).json["error"]["code"] == "code_expired"


@pytest.mark.parametrize("phone", ["12345", "not a phone", "+1 555", "", "+999 1234567", "8 999 123 45 67"])
def test_bad_phone_numbers_are_422_naming_phone(client, phone):
    response = request_code(client, phone)
    assert response.status_code == 422
    assert "phone" in response.json["error"]["fields"]


def test_a_default_region_reads_national_numbers(phone_app):
    client = phone_app(PHONE_DEFAULT_REGION="RU").test_client()
    assert request_code(client, "8 999 123 45 67").json["phone"] == PHONE


@pytest.mark.parametrize("code", ["123", "12345", "12a4", "", "1234\n"])
def test_codes_are_four_digits(client, code):
    response = verify(client, code)
    assert response.status_code == 422
    assert "code" in response.json["error"]["fields"]


def test_the_outbox_is_404_under_other_backends(phone_app):
    client = phone_app(SMS_BACKEND="console").test_client()
    response = outbox(client)
    assert (response.status_code, response.json["error"]["code"]) == (404, "not_found")


def test_the_outbox_lists_newest_first(phone_app):
    client = phone_app(PHONE_CODE_RESEND_SECONDS=0).test_client()
    for count in (1, 2):
        request_code(client)
        delivered_code(client, count=count)
    items = outbox(client).json["items"]
    assert [item["phone"] for item in items] == [PHONE, PHONE]
    assert items[0]["created_at"] > items[1]["created_at"]


def test_an_email_user_adds_a_phone_with_a_code(client):
    user, headers = sign_up_on(client)
    request_code(client)
    response = verify(client, delivered_code(client), headers=headers)
    assert response.status_code == 200
    assert (response.json["created"], response.json["user"]["id"], response.json["user"]["phone"]) == (
        False, user["id"], PHONE)
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_adding_a_phone_another_account_has_is_409(client):
    request_code(client)
    verify(client, delivered_code(client))  # the phone's own account
    _, headers = sign_up_on(client)
    end_cooldown(client)
    request_code(client)
    response = verify(client, delivered_code(client, count=2), headers=headers)
    assert (response.status_code, response.json["error"]["code"]) == (409, "phone_taken")


def test_without_a_code_a_taken_phone_is_not_revealed(client):
    request_code(client)
    verify(client, delivered_code(client))  # the phone's own account
    _, headers = sign_up_on(client)
    taken = verify(client, "0000", headers=headers)
    unknown = verify(client, "0000", phone="+79990000009", headers=headers)
    assert (taken.status_code, taken.json["error"]["code"]) == (400, "code_expired")
    assert (unknown.status_code, unknown.json["error"]["code"]) == (400, "code_expired")


def test_a_wrong_code_for_a_taken_phone_answers_invalid_code_not_phone_taken(client):
    request_code(client)
    verify(client, delivered_code(client))
    _, headers = sign_up_on(client)
    end_cooldown(client)
    request_code(client)
    response = verify(client, wrong(delivered_code(client, count=2)), headers=headers)
    assert (response.status_code, response.json["error"]["code"]) == (400, "invalid_code")


def test_a_phone_user_adds_email_and_password_then_logs_in_by_email(client):
    request_code(client)
    session = verify(client, delivered_code(client)).json
    headers = bearer(session["access_token"])
    end_cooldown(client)
    request_code(client)  # the change is proven with a fresh code: the account has no password
    changed = client.patch("/api/v1/users/me", json={"email": "phone.person@example.com", "password": "a new password",
                                                     "phone_code": delivered_code(client, count=2)}, headers=headers)
    assert changed.status_code == 200
    assert changed.json["email"] == "phone.person@example.com"
    login = client.post("/api/v1/auth/login", json={"email": "phone.person@example.com", "password": "a new password"})
    assert login.status_code == 200 and login.json["user"]["id"] == session["user"]["id"]


def test_replacing_a_password_needs_the_current_one(client):
    _, headers = sign_up_on(client)
    missing = client.patch("/api/v1/users/me", json={"password": "another password"}, headers=headers)
    wrong_current = client.patch("/api/v1/users/me", json={"password": "another password",
                                                           "current_password": "not it"}, headers=headers)
    right = client.patch("/api/v1/users/me", json={"password": "another password",
                                                   "current_password": PASSWORD}, headers=headers)
    assert [r.status_code for r in (missing, wrong_current, right)] == [422, 422, 200]
    assert "current_password" in missing.json["error"]["fields"]


def test_a_superseded_code_is_not_delivered(phone_app, monkeypatch):
    codes = iter(["1111", "2222"])
    monkeypatch.setattr("app.phone.services.new_code", lambda: next(codes))
    app = phone_app(PHONE_CODE_RESEND_SECONDS=0)
    client = app.test_client()
    request_code(client)
    request_code(client)
    deadline = time.monotonic() + 5
    while not any("2222" in item["body"] for item in outbox(client).json["items"]):
        assert time.monotonic() < deadline, "the live code was not delivered"
        time.sleep(0.01)
    with app.app_context():
        assert deliver_code_attempt(PHONE, seal("1111"), attempt=2) is None
        assert deliver_code_attempt(PHONE, "not a sealed code", attempt=2) is None
        assert deliver_code_attempt(PHONE, seal("2222"), attempt=2).status == "sent"


def test_sealed_codes_open_only_with_this_deployments_key(phone_app):
    app = phone_app()
    with app.app_context():
        sealed = seal("4321")
        assert unseal(sealed) == "4321"
    other = phone_app()
    with other.app_context():
        assert unseal(sealed) is None


def test_twilio_delivery_posts_the_message_and_retries_server_errors(phone_app, providers):
    providers.script(TWILIO_MESSAGES, Answer(500, {"code": 20500, "message": "Internal"}))
    client = phone_app(SMS_BACKEND="twilio", TWILIO_BASE_URL=providers.twilio_url, TWILIO_ACCOUNT_SID="AC123",
                       TWILIO_AUTH_TOKEN="twilio-token", TWILIO_FROM="+15005550006",
                       INTEGRATION_BACKOFF_SECONDS=0.01, INTEGRATION_BACKOFF_MAX_SECONDS=0.05).test_client()
    request_code(client)
    deadline = time.monotonic() + 5
    while len(providers.calls(TWILIO_MESSAGES)) < 2:
        assert time.monotonic() < deadline, providers.calls(TWILIO_MESSAGES)
        time.sleep(0.01)
    sent = providers.calls(TWILIO_MESSAGES)[-1]
    assert sent["method"] == "POST"
    assert sent["path"] == "/twilio/2010-04-01/Accounts/AC123/Messages.json"
    assert sent["auth"] == ("AC123", "twilio-token")
    assert sent["form"]["To"] == PHONE and sent["form"]["From"] == "+15005550006"
    assert CODE_RE.search(sent["form"]["Body"])


def test_outside_the_dev_backends_the_code_reaches_no_log(phone_app, providers, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr("app.phone.services.new_code", lambda: "8642")
    client = phone_app(SMS_BACKEND="twilio", TWILIO_BASE_URL=providers.twilio_url, TWILIO_ACCOUNT_SID="AC123",
                       TWILIO_AUTH_TOKEN="twilio-token", TWILIO_FROM="+15005550006").test_client()
    request_code(client)
    deadline = time.monotonic() + 5
    while not providers.calls(TWILIO_MESSAGES):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    verify(client, "8642")
    teardown_app(client.application)  # let the delivery's logging finish
    assert providers.calls(TWILIO_MESSAGES)[0]["form"]["Body"].startswith("Your Agora code is 8642")
    assert not re.search(r"\b8642\b", caplog.text)
    assert "twilio-token" not in caplog.text


def test_the_console_backend_logs_the_code(phone_app, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr("app.phone.services.new_code", lambda: "8642")
    app = phone_app(SMS_BACKEND="console")
    request_code(app.test_client())
    teardown_app(app)
    assert "Your Agora code is 8642" in caplog.text
