"""Password reset (SPEC 4): forgot answers alike for every address, reset ends every earlier session."""

import time

import pytest

from app.auth.services import mail_reset_code
from app.extensions import db
from app.users.models import User
from tests.accounts import PASSWORD, bearer, sign_up_on
from tests.errors import assert_error, assert_field_error
from tests.mail.outbox import CODE_RE, mail_outbox, wrong

FORGOT, RESET, ME = "/api/v1/auth/password/forgot", "/api/v1/auth/password/reset", "/api/v1/users/me"
NEW_PASSWORD = "a brand new passphrase"
RESET_SUBJECT = "Reset your Agora password"


def reset_mails(client, email) -> list[dict]:
    return [item for item in mail_outbox(client, email).json["items"] if item["subject"] == RESET_SUBJECT]


def reset_code(client, email, *, count=1, timeout=5.0) -> str:
    """Wait for the ``count``-th reset mail to ``email`` and return the newest code, as its holder reads it."""
    deadline = time.monotonic() + timeout
    while len(mails := reset_mails(client, email)) < count:
        assert time.monotonic() < deadline, "no reset mail arrived"
        time.sleep(0.01)
    return CODE_RE.search(mails[0]["body"]).group(1)


def forgot(client, email, environ=None):
    return client.post(FORGOT, json={"email": email}, environ_base=environ or {})


def reset(client, email, code, password=NEW_PASSWORD):
    return client.post(RESET, json={"email": email, "code": code, "password": password})


@pytest.fixture
def client(make_app):
    return make_app(MAIL_BACKEND="outbox").test_client()


def test_forgot_answers_alike_for_a_known_and_an_unknown_address(client, monkeypatch):
    sign_up_on(client, "ann@example.com", PASSWORD)
    queued = []
    monkeypatch.setattr("app.auth.services.enqueue", lambda function, *args: queued.append((function, args)) or True)
    known, unknown = forgot(client, "ann@example.com"), forgot(client, "nobody@example.com")
    assert (known.status_code, known.json) == (unknown.status_code, unknown.json) == (202, {})
    assert {k for k in known.headers.keys() if k != "X-Request-Id"} == {
        k for k in unknown.headers.keys() if k != "X-Request-Id"}
    # The same work for both: one job each, the address its only argument (who has it is settled there).
    assert queued == [(mail_reset_code, ("ann@example.com",)), (mail_reset_code, ("nobody@example.com",))]


def test_forgot_mails_a_code_only_where_an_account_has_the_address(client):
    sign_up_on(client, "ann@example.com", PASSWORD)
    assert forgot(client, "ann@example.com").status_code == 202
    assert CODE_RE.fullmatch(f"code is {reset_code(client, 'ann@example.com')}.")
    with client.application.app_context():
        mail_reset_code("nobody@example.com")  # what the unknown address's job does: nothing
    assert mail_outbox(client, "nobody@example.com").json["items"] == []


def test_forgot_answers_alike_when_a_known_address_code_is_refused(client):
    sign_up_on(client, "ann@example.com", PASSWORD)
    first, again = forgot(client, "ann@example.com"), forgot(client, "ann@example.com")  # within the resend cooldown
    assert (first.status_code, first.json) == (again.status_code, again.json) == (202, {})
    reset_code(client, "ann@example.com")
    time.sleep(0.2)
    assert len(reset_mails(client, "ann@example.com")) == 1


def test_forgot_is_limited_per_address_known_or_not(make_app):
    client = make_app(MAIL_BACKEND="outbox", EMAIL_CODES_PER_HOUR=2).test_client()
    sign_up_on(client, "ann@example.com", PASSWORD)
    for email in ("ann@example.com", "nobody@example.com"):
        answers = [forgot(client, email) for _ in range(3)]
        assert [answer.status_code for answer in answers] == [202, 202, 429]
        error = assert_error(answers[-1], 429, "too_many_requests")
        assert error["retry_after"] == int(answers[-1].headers["Retry-After"]) > 0


def test_forgot_is_limited_per_client_address(make_app):
    client = make_app(MAIL_BACKEND="outbox", PASSWORD_RESETS_PER_IP_PER_HOUR=3).test_client()
    answers = [forgot(client, f"person{n}@example.com").status_code for n in range(4)]
    assert answers == [202, 202, 202, 429]
    assert forgot(client, "person9@example.com", {"REMOTE_ADDR": "192.0.2.50"}).status_code == 202


def test_a_wrong_code_and_an_address_with_no_account_are_one_answer(client):
    sign_up_on(client, "ann@example.com", PASSWORD)
    forgot(client, "ann@example.com")
    code = reset_code(client, "ann@example.com")
    wrong_code = reset(client, "ann@example.com", wrong(code))
    no_account = reset(client, "nobody@example.com", code)
    sign_up_on(client, "bob@example.com", PASSWORD)
    never_asked = reset(client, "bob@example.com", code)
    for answer in (wrong_code, no_account, never_asked):
        assert_error(answer, 400, "invalid_code")
    bodies = [{**answer.json["error"], "request_id": None} for answer in (wrong_code, no_account, never_asked)]
    assert bodies[0] == bodies[1] == bodies[2]


def test_the_last_wrong_code_burns_it_and_the_answer_stays_invalid_code(client):
    sign_up_on(client, "ann@example.com", PASSWORD)
    forgot(client, "ann@example.com")
    code = reset_code(client, "ann@example.com")
    answers = [reset(client, "ann@example.com", wrong(code)) for _ in range(5)]
    assert {(answer.status_code, answer.json["error"]["code"]) for answer in answers} == {(400, "invalid_code")}
    assert_error(reset(client, "ann@example.com", code), 400, "invalid_code")  # burned
    assert client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD}).status_code == 200


def test_reset_sets_the_password_confirms_the_address_and_ends_every_earlier_session(client):
    _, headers = sign_up_on(client, "ann@example.com", PASSWORD)
    other = client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD}).json
    forgot(client, "ann@example.com")
    answer = reset(client, "Ann@EXAMPLE.com", reset_code(client, "ann@example.com"))
    assert answer.status_code == 200, answer.json
    assert set(answer.json) == {"user", "access_token", "refresh_token"}
    assert answer.json["user"]["email"] == "ann@example.com" and answer.json["user"]["email_confirmed"] is True
    for earlier in (headers, bearer(other["access_token"])):
        assert_error(client.get(ME, headers=earlier), 401, "token_revoked")
    assert client.post("/api/v1/auth/refresh", headers=bearer(other["refresh_token"])).status_code == 401
    assert client.get(ME, headers=bearer(answer.json["access_token"])).status_code == 200
    login = [client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": password}).status_code
             for password in (PASSWORD, NEW_PASSWORD)]
    assert login == [401, 200]


def test_a_reset_code_works_once(client):
    sign_up_on(client, "ann@example.com", PASSWORD)
    forgot(client, "ann@example.com")
    code = reset_code(client, "ann@example.com")
    assert reset(client, "ann@example.com", code).status_code == 200
    assert_error(reset(client, "ann@example.com", code, "yet another passphrase"), 400, "invalid_code")


def test_a_confirmation_code_does_not_reset_a_password(client):
    sign_up_on(client, "ann@example.com", PASSWORD)
    deadline = time.monotonic() + 5
    while not (items := mail_outbox(client, "ann@example.com").json["items"]):
        assert time.monotonic() < deadline, "no confirmation mail arrived"
        time.sleep(0.01)
    confirmation = CODE_RE.search(items[0]["body"]).group(1)
    assert_error(reset(client, "ann@example.com", confirmation), 400, "invalid_code")


def test_the_new_password_follows_the_signup_rules(client):
    sign_up_on(client, "ann@example.com", PASSWORD)
    forgot(client, "ann@example.com")
    code = reset_code(client, "ann@example.com")
    assert_field_error(reset(client, "ann@example.com", code, "short"), "password")
    assert_field_error(reset(client, "ann@example.com", code, "password1"), "password")  # a common one
    assert reset(client, "ann@example.com", code).status_code == 200  # the refusals did not spend the code


def test_an_address_someone_else_signed_up_with_is_recovered_by_its_owner(client):
    # A signs up with B's address: A holds a session and chose the password; B only reads the mail.
    _, squatter = sign_up_on(client, "bea@example.com", "the squatter's own password")
    assert forgot(client, "bea@example.com").status_code == 202
    recovered = reset(client, "bea@example.com", reset_code(client, "bea@example.com"), "bea's own passphrase")
    assert recovered.status_code == 200, recovered.json
    assert recovered.json["user"]["email_confirmed"] is True
    assert_error(client.get(ME, headers=squatter), 401, "token_revoked")
    assert client.post("/api/v1/auth/login", json={"email": "bea@example.com",
                                                  "password": "the squatter's own password"}).status_code == 401
    assert client.get(ME, headers=bearer(recovered.json["access_token"])).json["email"] == "bea@example.com"
    with client.application.app_context():
        assert db.session.query(User).filter_by(email="bea@example.com").one().email_confirmed is True
