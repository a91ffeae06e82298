"""Verification and enrichment end to end on the embedded default: the inline runner calls the fakes over HTTP."""

import logging
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.core.database import utcnow
from app.extensions import db
from app.profile_checks.services import verify_email_attempt
from app.users.models import User
from tests.accounts import PASSWORD, bearer, settled_profile, sign_up_on
from tests.conftest import build_app, provider_config, teardown_app
from tests.mail.outbox import mailed_code
from tests.fakes import CLEARBIT_COMBINED, HUNTER_COMBINED, HUNTER_VERIFY, Answer, hunter_error, hunter_verification

ALEX = "alex@example.com"


@pytest.fixture
def checked_app(make_app, providers):
    """Builds an app whose providers are the fakes; overrides per test."""
    return lambda **overrides: make_app(**provider_config(providers, MAIL_BACKEND="outbox", **overrides))


def sign_up_confirmed(client, email=ALEX, name=None):
    """Sign up and confirm the address with the mailed code (enrichment waits for it).

    Returns the profile signup answered (before the confirmation) and the headers.
    """
    user, headers = sign_up_on(client, email, name=name)
    confirmed = client.post("/api/v1/auth/email/confirm", json={"code": mailed_code(client, email)}, headers=headers)
    assert confirmed.status_code == 200, confirmed.json
    return user, headers


def test_without_keys_both_checks_are_skipped_and_nothing_is_called(tmp_path, providers):
    app = build_app(tmp_path)
    with app.app_context():
        db.create_all()
    user, _ = sign_up_on(app.test_client(), ALEX)
    teardown_app(app)
    assert (user["email_status"], user["enrichment_status"]) == ("skipped", "unconfirmed")
    assert providers.requests == []


def test_signup_is_pending_then_verified_and_enriched(checked_app, providers):
    client = checked_app().test_client()
    user, headers = sign_up_confirmed(client)
    assert (user["email_status"], user["enrichment_status"]) == ("pending", "unconfirmed")
    profile = settled_profile(client, headers)
    assert (profile["email_status"], profile["enrichment_status"]) == ("valid", "found")
    assert profile["enrichment"]["employer"] == {"name": "Clearbit", "domain": "clearbit.com", "title": "Co-founder, CEO"}
    assert profile["name"] == "Alex MacCaw"
    [verify] = providers.calls(HUNTER_VERIFY)
    assert verify["args"] == {"email": "alex@example.com", "api_key": "test-hunter-key"}
    [lookup] = providers.calls(CLEARBIT_COMBINED)
    assert lookup["args"] == {"email": "alex@example.com"}
    assert lookup["headers"]["Authorization"] == "Bearer test-clearbit-key"


def test_enrichment_never_overwrites_a_name_the_user_chose(checked_app):
    client = checked_app().test_client()
    _, headers = sign_up_confirmed(client, name="Sasha")
    assert settled_profile(client, headers)["name"] == "Sasha"


def test_hunter_is_the_enrichment_provider_with_only_a_hunter_key(checked_app, providers):
    client = checked_app(CLEARBIT_API_KEY=None, ENRICHMENT_PROVIDER="hunter").test_client()
    _, headers = sign_up_confirmed(client)
    profile = settled_profile(client, headers)
    assert profile["enrichment_status"] == "found"
    assert len(providers.calls(HUNTER_COMBINED)) == 1
    assert providers.calls(CLEARBIT_COMBINED) == []


def test_still_running_answers_are_asked_again(checked_app, providers):
    providers.script(HUNTER_VERIFY, Answer(202, {}), Answer(202, {}),
                     Answer(200, hunter_verification("alex@example.com", "invalid", "undeliverable", 12)))
    providers.script(CLEARBIT_COMBINED, Answer(202, {}))
    client = checked_app().test_client()
    _, headers = sign_up_confirmed(client)
    profile = settled_profile(client, headers)
    assert (profile["email_status"], profile["enrichment_status"]) == ("invalid", "found")
    assert len(providers.calls(HUNTER_VERIFY)) == 3
    assert len(providers.calls(CLEARBIT_COMBINED)) == 2


def test_server_errors_and_malformed_bodies_are_retried(checked_app, providers):
    providers.script(HUNTER_VERIFY, Answer(500, "<html>oops</html>"), Answer(200, "{not json"))
    providers.script(CLEARBIT_COMBINED, Answer(503, {}, headers={"Retry-After": "0"}))
    client = checked_app().test_client()
    _, headers = sign_up_confirmed(client)
    profile = settled_profile(client, headers)
    assert (profile["email_status"], profile["enrichment_status"]) == ("valid", "found")
    assert len(providers.calls(HUNTER_VERIFY)) == 3


def test_a_clearbit_rate_limit_is_waited_out_then_found(checked_app, providers):
    providers.script(CLEARBIT_COMBINED, Answer(429, {"error": {"type": "rate_limit"}}, headers={"Retry-After": "0"}))
    client = checked_app().test_client()
    _, headers = sign_up_confirmed(client)
    assert settled_profile(client, headers)["enrichment_status"] == "found"
    assert len(providers.calls(CLEARBIT_COMBINED)) == 2


def test_a_provider_that_never_answers_ends_in_a_terminal_status(checked_app, providers):
    providers.script(HUNTER_VERIFY, *[Answer(delay=1.0)] * 4)
    providers.script(CLEARBIT_COMBINED, *[Answer(500, {})] * 4)
    client = checked_app().test_client()
    _, headers = sign_up_confirmed(client)
    profile = settled_profile(client, headers, timeout=20)
    assert (profile["email_status"], profile["enrichment_status"]) == ("unknown", "failed")
    assert len(providers.calls(HUNTER_VERIFY)) == 4  # INTEGRATION_MAX_ATTEMPTS
    assert len(providers.calls(CLEARBIT_COMBINED)) == 4


def test_a_bad_key_stops_at_once(checked_app, providers):
    providers.script(HUNTER_VERIFY, Answer(401, hunter_error(401, "authentication_failed", "No user found")))
    providers.script(CLEARBIT_COMBINED, Answer(401, {"error": {"type": "auth_required"}}))
    client = checked_app().test_client()
    _, headers = sign_up_confirmed(client)
    assert (settled_profile(client, headers)["email_status"]) == "failed"
    assert len(providers.calls(HUNTER_VERIFY)) == 1
    assert len(providers.calls(CLEARBIT_COMBINED)) == 1


def test_a_person_who_opted_out_is_unknown_and_not_found(checked_app, providers):
    providers.script(HUNTER_VERIFY, Answer(451, hunter_error(451, "claimed_email", "The person asked")))
    providers.script(CLEARBIT_COMBINED, Answer(404, {"error": {"type": "unknown_record"}}))
    client = checked_app().test_client()
    _, headers = sign_up_confirmed(client)
    profile = settled_profile(client, headers)
    assert (profile["email_status"], profile["enrichment_status"]) == ("unknown", "not_found")
    assert profile["enrichment"] is None


def test_a_spent_quota_fails_without_retry_and_resume_finishes_it_later(checked_app, providers):
    providers.script(HUNTER_VERIFY, Answer(429, hunter_error(429, "too_many_requests", "quota")))
    app = checked_app()
    client = app.test_client()
    user, headers = sign_up_confirmed(client)
    assert settled_profile(client, headers)["email_status"] == "failed"
    assert len(providers.calls(HUNTER_VERIFY)) == 1
    with app.app_context():
        db.session.execute(update(User).values(checks_queued_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["profile-checks", "resume"])
    assert result.exit_code == 0 and result.output.strip() == "queued checks for 1 user"
    assert settled_profile(client, headers)["email_status"] == "valid"


def test_resume_leaves_recently_queued_and_finished_users_alone(checked_app, providers):
    app = checked_app()
    client = app.test_client()
    _, headers = sign_up_confirmed(client)
    settled_profile(client, headers)
    with app.app_context():
        pending = User(email="new@example.com", invite_code="PEND01", email_status="pending",
                       enrichment_status="pending", checks_queued_at=utcnow())
        db.session.add(pending)
        db.session.commit()
    assert app.test_cli_runner().invoke(args=["profile-checks", "resume"]).output.strip() == "queued checks for 0 users"


def test_the_old_command_name_resumes_too(checked_app):
    """`flask enrichment resume` was the documented name: it stays an alias of `flask profile-checks resume`."""
    app = checked_app()
    with app.app_context():
        db.session.add(User(email="old@example.com", invite_code="OLD001", email_status="pending",
                            enrichment_status="pending", checks_queued_at=None))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["enrichment", "resume"])
    assert result.exit_code == 0 and result.output.strip() == "queued checks for 1 user"


def test_an_undeliverable_email_blocks_writes_until_it_is_changed(checked_app, providers):
    providers.script(HUNTER_VERIFY, Answer(200, hunter_verification("alex@example.com", "invalid", "undeliverable", 0)))
    client = checked_app().test_client()
    _, headers = sign_up_confirmed(client)
    assert settled_profile(client, headers)["email_status"] == "invalid"
    blocked = client.post("/api/v1/posts", json={"body": "hello"}, headers=headers)
    assert (blocked.status_code, blocked.json["error"]["code"]) == (403, "email_undeliverable")
    changed = client.patch("/api/v1/users/me", json={"email": "alex@good.example", "current_password": PASSWORD},
                           headers=headers)
    assert changed.json["email_status"] == "pending"
    headers = bearer(changed.json["access_token"])  # the change ended the old session
    assert settled_profile(client, headers)["email_status"] == "valid"
    assert client.post("/api/v1/posts", json={"body": "hello"}, headers=headers).status_code == 201
    assert [call["args"]["email"] for call in providers.calls(HUNTER_VERIFY)] == ["alex@example.com", "alex@good.example"]


def test_an_attempt_runs_once_and_records_nothing_for_an_old_email(checked_app, providers):
    app = checked_app(HUNTER_API_KEY="test-hunter-key", ENRICHMENT_PROVIDER=None, CLEARBIT_API_KEY=None)
    with app.app_context():
        user = User(email="alex@example.com", invite_code="ONCE01", email_status="pending",
                    enrichment_status="skipped")
        db.session.add(user)
        db.session.commit()
        assert verify_email_attempt(user.id, "alex@example.com").status == "valid"
        assert verify_email_attempt(user.id, "alex@example.com") is None  # done already: no second call
        assert verify_email_attempt(user.id, "someone.else@example.com") is None
    assert len(providers.calls(HUNTER_VERIFY)) == 1


def test_provider_keys_never_reach_the_logs(checked_app, providers, caplog):
    caplog.set_level(logging.DEBUG)
    providers.script(HUNTER_VERIFY, Answer(delay=1.0), Answer(500, {}))
    client = checked_app().test_client()
    _, headers = sign_up_confirmed(client)
    settled_profile(client, headers)
    calls = [record for record in caplog.records if record.getMessage().startswith("provider_call")]
    assert {(record.provider, record.endpoint) for record in calls} >= {("hunter", "email-verifier"),
                                                                       ("clearbit", "combined/find")}
    assert {record.status for record in calls} >= {"timeout", 500, 200}
    assert all(hasattr(record, "latency_ms") and hasattr(record, "attempt") for record in calls)
    assert "test-hunter-key" not in caplog.text
    assert "test-clearbit-key" not in caplog.text
