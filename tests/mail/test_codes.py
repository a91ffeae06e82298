"""The mailed-code API other domains build on: send_email_code and check_email_code (SPEC 4's code rules)."""

import pytest

from app.core.errors import CodeExpired, InvalidCode, ResendTooSoon, TooManyAttempts, TooManyEmailCodes
from app.extensions import redis_store
from app.mail.services import check_email_code, deliver_mail_attempt, send_email_code
from app.mail.models import seal
from tests.mail.outbox import end_cooldown, mailed_code, wrong

EMAIL = "ada@example.com"


@pytest.fixture
def app(mail_app):
    return mail_app()


@pytest.fixture
def client(app):
    return app.test_client()


def send(app, email=EMAIL, purpose="reset"):
    with app.app_context():
        return send_email_code(email, purpose)


def check(app, code, email=EMAIL, purpose="reset"):
    with app.app_context():
        check_email_code(email, purpose, code)


def test_a_code_is_mailed_and_its_sending_says_when_it_expires(app, client):
    assert send(app) == {"email": EMAIL, "expires_in": 900, "resend_after": 60}
    item = client.get("/api/v1/dev/mail-outbox", query_string={"email": EMAIL}).json["items"][0]
    assert item["email"] == EMAIL and item["subject"] == "Reset your Agora password"
    assert "expires in 15 minutes" in item["body"]


def test_the_right_code_passes_once(app, client):
    send(app)
    code = mailed_code(client, EMAIL)
    check(app, code)
    with pytest.raises(CodeExpired):
        check(app, code)


def test_a_wrong_code_says_how_many_attempts_are_left(app, client):
    send(app)
    code = mailed_code(client, EMAIL)
    with pytest.raises(InvalidCode) as refused:
        check(app, wrong(code))
    assert refused.value.extra == {"attempts_left": 4}
    check(app, code)


def test_fifth_wrong_code_burns_the_code(app, client):
    send(app)
    code = mailed_code(client, EMAIL)
    for left in (4, 3, 2, 1):
        with pytest.raises(InvalidCode) as refused:
            check(app, wrong(code))
        assert refused.value.extra["attempts_left"] == left
    with pytest.raises(TooManyAttempts):
        check(app, wrong(code))
    with pytest.raises(CodeExpired):
        check(app, code)


def test_no_code_is_code_expired_and_says_address(app):
    with pytest.raises(CodeExpired, match="for this address"):
        check(app, "123456")


def test_a_code_lives_email_code_ttl_seconds(app, client):
    send(app)
    code = mailed_code(client, EMAIL)
    with app.app_context():
        key = redis_store.key("mail", "reset", EMAIL, "code")
        assert 890 < redis_store.client.ttl(key) <= 900
        redis_store.client.delete(key)  # as the TTL would
    with pytest.raises(CodeExpired):
        check(app, code)


def test_a_second_code_within_the_cooldown_is_refused_with_retry_after(app):
    send(app)
    with pytest.raises(ResendTooSoon) as refused:
        send(app)
    assert refused.value.code == "resend_too_soon"
    assert 0 < int(refused.value.headers["Retry-After"]) <= 60


def test_a_new_code_replaces_the_old_one(app, client):
    send(app)
    first = mailed_code(client, EMAIL)
    end_cooldown(client, EMAIL, "reset")
    send(app)
    second = mailed_code(client, EMAIL, count=2)
    if first != second:
        with pytest.raises(InvalidCode):
            check(app, first)
    check(app, second)


def test_codes_per_hour_are_capped(mail_app):
    app = mail_app(EMAIL_CODE_RESEND_SECONDS=0, EMAIL_CODES_PER_HOUR=2)
    send(app)
    send(app)
    with pytest.raises(TooManyEmailCodes) as refused:
        send(app)
    assert refused.value.code == "too_many_codes" and refused.value.headers["Retry-After"]


def test_a_code_answers_only_for_its_purpose_and_address(app, client):
    send(app, purpose="reset")
    code = mailed_code(client, EMAIL)
    with pytest.raises(CodeExpired):
        check(app, code, purpose="confirm")
    with pytest.raises(CodeExpired):
        check(app, code, email="grace@example.com")
    check(app, code, email="ADA@example.COM")  # one address whatever its spelling's case


def test_an_unknown_purpose_is_a_programming_error(app):
    with pytest.raises(ValueError, match="purpose"):
        send(app, purpose="welcome")


def test_the_code_never_travels_in_clear_and_a_replaced_one_is_not_sent(app, client):
    with app.app_context():
        assert deliver_mail_attempt(EMAIL, "reset", seal("123456")) is None  # not the live code: nothing is sent
        assert deliver_mail_attempt(EMAIL, "reset", "not a sealed code") is None
    assert client.get("/api/v1/dev/mail-outbox", query_string={"email": EMAIL}).json["items"] == []
