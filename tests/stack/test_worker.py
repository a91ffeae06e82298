"""Profile checks on the real stack: a ``celery -A tasks.worker worker`` subprocess, a Redis broker, PostgreSQL.

The web app under test and the worker share one configuration (settings whose names are the
environment variables), including a Redis key prefix of the test's own: the web app's
``send_task`` reaches this test's worker and no other. The fake Hunter and Clearbit servers
answer both.
"""

import re
import time
import uuid

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.accounts import PASSWORD, settled_profile, sign_up_on
from tests.conftest import build_app, empty_tables, provider_config, teardown_app
from tests.fakes import CLEARBIT_COMBINED, HUNTER_COMBINED, HUNTER_VERIFY, Answer, hunter_verification
from tests.stack.worker_process import Worker, worker_env
from tasks.celery_app import CeleryQueue

pytestmark = pytest.mark.stack

DEADLINE = 20.0
POLL_SECONDS = 0.1
DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once
VISIBILITY_TIMEOUT = 2


class Stack:
    """Web apps and workers of one test, on the same database, broker prefix and fake providers."""

    def __init__(self, database_url: str, redis_url: str, prefix: str, providers, tmp_path):
        self.providers = providers
        self.tmp_path = tmp_path
        self.settings = {
            "DATABASE_URL": database_url, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix,
            # Fixed keys: a token issued by one web app of the test is good on the others.
            "SECRET_KEY": "services-tier-worker-test-secret-key",
            "JWT_SECRET_KEY": "services-tier-worker-test-jwt-signing-key",
            **provider_config(providers, INTEGRATION_BACKOFF_SECONDS=0.05, INTEGRATION_BACKOFF_MAX_SECONDS=0.2),
            # Confirmation codes reach the outbox in Redis, where a test reads them as their addressee would.
            "MAIL_BACKEND": "outbox",
        }
        self.apps = []
        self.workers = []

    def app(self, **overrides):
        """A web app built like the others, with ``overrides`` on top (e.g. a dead broker)."""
        settings = {**self.settings, **overrides}
        database_url = settings.pop("DATABASE_URL")
        app = build_app(self.tmp_path / f"web{len(self.apps)}", SQLALCHEMY_DATABASE_URI=database_url, **settings)
        self.apps.append(app)
        assert isinstance(app.extensions["tasks"], CeleryQueue), "the web app must queue to the broker, not run tasks itself"
        return app

    def worker(self, *, pool: str = "prefork", concurrency: int = 1, **overrides) -> Worker:
        """Start a worker whose environment carries the shared settings plus ``overrides``; wait until ready."""
        env = worker_env({
            "APP_ENV": "testing", "PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 1024, "LOG_LEVEL": "INFO",
            **self.settings, **overrides,
        })
        worker = Worker(env, self.tmp_path / f"worker{len(self.workers)}.log", pool=pool, concurrency=concurrency)
        self.workers.append(worker)
        return worker.start()

    def close(self):
        for worker in self.workers:
            worker.stop()
            print(f"--- {worker.log_path.name} ---\n{worker.tail(200)}")  # shown when the test failed
        for app in self.apps:
            teardown_app(app)


@pytest.fixture
def stack(postgres_schema, redis_url, providers, tmp_path):
    url, prefix = redis_url
    stack = Stack(postgres_schema, url, f"{prefix}{uuid.uuid4().hex[:8]}:", providers, tmp_path)
    try:
        empty_tables(stack.app())
        yield stack
    finally:
        stack.close()


# --- helpers -----------------------------------------------------------------------------------

def confirm_address(client, headers, email: str) -> dict:
    """Confirm the address with the code the worker mailed to it (enrichment waits for this)."""
    def mailed():
        items = client.get("/api/v1/dev/mail-outbox", query_string={"email": email}).json["items"]
        return re.search(r"code is (\d{6})\.", items[0]["body"]).group(1) if items else None

    code = wait_until(mailed, f"the confirmation code mailed to {email}")
    response = client.post("/api/v1/auth/email/confirm", json={"code": code}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def wait_until(condition, what: str, timeout: float = DEADLINE):
    """Poll ``condition`` until it returns something truthy; fail with ``what`` and the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}; last seen: {value!r}")
        time.sleep(POLL_SECONDS)


def user_row(app, user_id: int) -> dict:
    with app.app_context():
        row = db.session.execute(text(
            "SELECT email, name, email_status, email_status_reason, email_verification, enrichment_status,"
            " enrichment_status_reason, enrichment FROM users WHERE id = :id"), {"id": user_id}).mappings().one()
        db.session.rollback()
        return dict(row)


def calls_for(providers, endpoint: str, email: str) -> list[dict]:
    return [call for call in providers.calls(endpoint) if call["args"].get("email") == email]


def final_row(app, user_id: int, timeout: float = DEADLINE) -> dict:
    """The user's row once neither check is pending."""
    def settled():
        row = user_row(app, user_id)
        return row if "pending" not in (row["email_status"], row["enrichment_status"]) else None

    return wait_until(settled, f"user {user_id}'s checks to end", timeout)


# --- 1. the happy path ---------------------------------------------------------------------------

def test_signup_is_verified_and_enriched_by_the_real_worker(stack):
    stack.worker()
    client = stack.app().test_client()

    user, headers = sign_up_on(client, "alex@example.com")
    assert (user["email_status"], user["enrichment_status"]) == ("pending", "unconfirmed")
    assert user["name"] is None
    assert confirm_address(client, headers, "alex@example.com")["email_confirmed"] is True

    profile = settled_profile(client, headers, timeout=DEADLINE)
    assert (profile["email_status"], profile["enrichment_status"]) == ("valid", "found")
    assert profile["name"] == "Alex MacCaw"  # the empty name, filled from the enrichment
    assert profile["enrichment"]["full_name"] == "Alex MacCaw"
    assert profile["enrichment"]["employer"] == {"name": "Clearbit", "domain": "clearbit.com",
                                                 "title": "Co-founder, CEO"}

    providers = stack.providers
    verify_calls = providers.calls(HUNTER_VERIFY)
    assert [call["args"] for call in verify_calls] == [{"email": "alex@example.com", "api_key": "test-hunter-key"}]
    assert providers.calls(HUNTER_COMBINED) == []
    clearbit_calls = providers.calls(CLEARBIT_COMBINED)
    assert [call["args"] for call in clearbit_calls] == [{"email": "alex@example.com"}]
    assert clearbit_calls[0]["headers"].get("Authorization") == "Bearer test-clearbit-key"


# --- 2. retries ----------------------------------------------------------------------------------

def test_the_worker_retries_transient_answers_and_ends_in_terminal_statuses(stack):
    """Scripts are per endpoint, so the scenarios run one after another on one worker."""
    stack.worker()
    app = stack.app()
    client = app.test_client()
    providers = stack.providers
    max_attempts = stack.settings["INTEGRATION_MAX_ATTEMPTS"]

    # Hunter is still working (202), then answers undeliverable.
    email = "still.working@example.com"
    providers.script(HUNTER_VERIFY, Answer(202, {"data": {"status": "unknown"}}),
                     Answer(200, hunter_verification(email, status="invalid", result="undeliverable", score=0)))
    invalid_user, invalid_headers = sign_up_on(client, email)
    confirm_address(client, invalid_headers, email)
    row = final_row(app, invalid_user["id"])
    assert (row["email_status"], row["enrichment_status"]) == ("invalid", "found")
    assert len(calls_for(providers, HUNTER_VERIFY, email)) == 2

    # Clearbit fails twice with a server error, then finds the person.
    email = "flaky.clearbit@example.com"
    providers.script(CLEARBIT_COMBINED, Answer(500, {"error": {"type": "server_error"}}),
                     Answer(500, {"error": {"type": "server_error"}}))
    valid_user, valid_headers = sign_up_on(client, email, name="Val Id")
    confirm_address(client, valid_headers, email)
    row = final_row(app, valid_user["id"])
    assert (row["email_status"], row["enrichment_status"]) == ("valid", "found")
    assert len(calls_for(providers, CLEARBIT_COMBINED, email)) == 3
    assert row["name"] == "Val Id"  # a name the user chose is kept

    # The month's quota is spent (429): failed at once, no hot retry.
    quota_email = "no.quota@example.com"
    providers.script(HUNTER_VERIFY, Answer(429, {"errors": [{"id": "too_many_requests", "code": 429,
                                                             "details": "You have reached your monthly quota"}]}))
    quota_user, _ = sign_up_on(client, quota_email)
    row = final_row(app, quota_user["id"])
    assert (row["email_status"], row["email_status_reason"]) == ("failed", "quota_exceeded")
    assert len(calls_for(providers, HUNTER_VERIFY, quota_email)) == 1

    # Hunter never answers within HUNTER_TIMEOUT_SECONDS (0.5): unknown after INTEGRATION_MAX_ATTEMPTS calls.
    email = "never.answers@example.com"
    providers.script(HUNTER_VERIFY, *[Answer(200, hunter_verification(email), delay=1.0)] * max_attempts)
    slow_user, _ = sign_up_on(client, email)
    row = final_row(app, slow_user["id"])
    assert row["email_status"] == "unknown"
    assert row["email_status_reason"].startswith("timeout")
    assert len(calls_for(providers, HUNTER_VERIFY, email)) == max_attempts

    # The quota failure was never retried in the meantime.
    assert len(calls_for(providers, HUNTER_VERIFY, quota_email)) == 1

    # An undeliverable email may read but not write; a deliverable one may write.
    refused = client.post("/api/v1/posts", headers=invalid_headers, json={"title": "Hi", "body": "Hello"})
    assert refused.status_code == 403, refused.json
    assert refused.json["error"]["code"] == "email_undeliverable"
    assert client.get("/api/v1/posts", headers=invalid_headers).status_code == 200
    created = client.post("/api/v1/posts", headers=valid_headers, json={"title": "Hi", "body": "Hello"})
    assert created.status_code == 201, created.json


# --- 3. a worker killed mid-task ---------------------------------------------------------------------

def test_a_task_whose_worker_was_killed_is_delivered_again_and_completes(stack):
    first = stack.worker(HUNTER_TIMEOUT_SECONDS=10)
    app = stack.app(HUNTER_TIMEOUT_SECONDS=10)
    client = app.test_client()
    providers = stack.providers
    email = "killed.midway@example.com"
    # The first verification hangs for 4 s: long enough to kill the worker while it waits.
    providers.script(HUNTER_VERIFY, Answer(200, hunter_verification(email, status="invalid", result="undeliverable"),
                                           delay=4.0))

    user, headers = sign_up_on(client, email)
    wait_until(lambda: calls_for(providers, HUNTER_VERIFY, email), "the worker to call Hunter")
    call_seen_at = time.monotonic()
    first.kill()  # the main process and its prefork child, mid-call: the message is never acknowledged
    assert user_row(app, user["id"])["email_status"] == "pending"

    # A message is restored once unacknowledged for the visibility timeout; a worker starting up
    # sweeps for such messages, so start the new one after that much time has passed.
    time.sleep(max(0.0, call_seen_at + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    stack.worker(HUNTER_TIMEOUT_SECONDS=10, CELERY_VISIBILITY_TIMEOUT=VISIBILITY_TIMEOUT)

    profile = settled_profile(client, headers, timeout=DEADLINE)
    assert (profile["email_status"], profile["enrichment_status"]) == ("valid", "unconfirmed")  # nothing lost
    assert len(calls_for(providers, HUNTER_VERIFY, email)) == 2  # the killed call, and the redelivered one
    assert calls_for(providers, CLEARBIT_COMBINED, email) == []  # enrichment waits for the address's proof


def test_a_running_worker_takes_over_a_dead_workers_task_within_seconds(stack):
    """kombu sweeps for unacknowledged messages at a worker's start and then only about every 100 s by
    default; with the sweep every few seconds, a worker already running redelivers the dead one's task
    soon after CELERY_VISIBILITY_TIMEOUT, without anyone restarting anything."""
    visibility = 6
    first = stack.worker(HUNTER_TIMEOUT_SECONDS=30, CELERY_VISIBILITY_TIMEOUT=visibility)
    app = stack.app(HUNTER_TIMEOUT_SECONDS=30, CELERY_VISIBILITY_TIMEOUT=visibility)
    client = app.test_client()
    providers = stack.providers
    email = "taken.over@example.com"
    providers.script(HUNTER_VERIFY, Answer(200, hunter_verification(email), delay=25.0))

    user, headers = sign_up_on(client, email)
    wait_until(lambda: calls_for(providers, HUNTER_VERIFY, email), "the first worker to call Hunter")
    # The second worker is up before the message is old enough to be restored, so its start-up
    # sweep leaves it alone: only the periodic sweep can hand it over.
    stack.worker(HUNTER_TIMEOUT_SECONDS=30, CELERY_VISIBILITY_TIMEOUT=visibility)
    first.kill()
    killed_at = time.monotonic()
    assert user_row(app, user["id"])["email_status"] == "pending"

    wait_until(lambda: len(calls_for(providers, HUNTER_VERIFY, email)) == 2, "the second worker to call Hunter",
               timeout=visibility + 10)
    assert time.monotonic() - killed_at < visibility + 10
    assert final_row(app, user["id"])["email_status"] == "valid"


def test_readyz_sees_a_worker_and_notices_when_it_dies(stack):
    app = stack.app(WORKER_HEARTBEAT_MAX_AGE_SECONDS=3)
    client = app.test_client()
    worker = stack.worker(WORKER_HEARTBEAT_SECONDS=1)
    ready = wait_until(lambda: client.get("/readyz").status_code == 200 or None, "readyz to see the worker",
                       timeout=10)
    assert ready
    assert client.get("/readyz").get_json()["checks"] == {"database": "ok", "redis": "ok", "broker": "ok",
                                                         "worker": "ok"}
    worker.kill()
    response = wait_until(lambda: (lambda r: r if r.status_code == 503 else None)(client.get("/readyz")),
                          "readyz to notice the dead worker", timeout=10)
    error = response.get_json()["error"]
    assert error["code"] == "not_ready"
    assert error["checks"]["worker"] == "stale" and error["checks"]["broker"] == "ok"
    assert "worker (stale)" in error["message"]


# --- 4. the broker down at signup, then `flask profile-checks resume` ------------------------------------

def test_a_signup_with_the_broker_down_is_saved_and_resumed_later(stack):
    worker = stack.worker()
    down_app = stack.app(CELERY_BROKER_URL=DEAD_BROKER)
    email = "broker.down@example.com"

    user, headers = sign_up_on(down_app.test_client(), email)  # answers 201, does not hang
    assert (user["email_status"], user["enrichment_status"]) == ("pending", "unconfirmed")
    row = user_row(down_app, user["id"])
    assert (row["email_status"], row["enrichment_status"]) == ("pending", "unconfirmed")

    live_app = stack.app(CHECKS_RESUME_AFTER_SECONDS=1)
    with live_app.app_context():
        db.session.execute(text("UPDATE users SET checks_queued_at = now() - interval '1 hour' WHERE id = :id"),
                           {"id": user["id"]})
        db.session.commit()
    assert stack.providers.requests == []  # nothing was queued, so nothing was called
    assert "Task tasks." not in worker.log()

    result = live_app.test_cli_runner().invoke(args=["profile-checks", "resume"])
    assert result.exit_code == 0, result.output
    assert "queued checks for 1 user" in result.output

    profile = settled_profile(live_app.test_client(), headers, timeout=DEADLINE)
    assert (profile["email_status"], profile["enrichment_status"]) == ("valid", "unconfirmed")
    assert len(calls_for(stack.providers, HUNTER_VERIFY, email)) == 1

    # The confirmation code could not be queued either: a new one, and its proof, start the enrichment.
    live_client = live_app.test_client()
    assert live_client.post("/api/v1/auth/email/code", headers=headers).status_code == 202
    confirm_address(live_client, headers, email)
    assert settled_profile(live_client, headers, timeout=DEADLINE)["enrichment_status"] == "found"
    assert len(calls_for(stack.providers, CLEARBIT_COMBINED, email)) == 1


# --- 5. idempotency --------------------------------------------------------------------------------

def test_the_same_verification_run_twice_records_one_consistent_result(stack):
    worker = stack.worker(concurrency=2)
    down_app = stack.app(CELERY_BROKER_URL=DEAD_BROKER)  # signup queues nothing: the test sends the tasks
    live_app = stack.app()
    celery = live_app.extensions["celery"]
    providers = stack.providers
    email = "twice@example.com"
    user, _ = sign_up_on(down_app.test_client(), email)

    # Both runs call Hunter at the same time and get different verdicts: the first answer to arrive
    # ("invalid", at once) is recorded whole; the later one ("valid", after 2 s) records nothing.
    providers.script(HUNTER_VERIFY, Answer(200, hunter_verification(email, status="valid"), delay=2.0),
                     Answer(200, hunter_verification(email, status="invalid", result="undeliverable", score=3)))
    runs = [celery.send_task("tasks.verify_email", args=[user["id"], email]) for _ in range(2)]
    wait_until(lambda: len(calls_for(providers, HUNTER_VERIFY, email)) == 2, "both runs to call Hunter")
    for run in runs:
        worker.wait_for_task(run.id)

    row = user_row(live_app, user["id"])
    assert row["email_status"] == "invalid"
    assert row["email_status_reason"] is None
    assert row["email_verification"]["hunter_status"] == "invalid"
    assert row["email_verification"]["result"] == "undeliverable"
    assert row["email_verification"]["score"] == 3

    # A third run finds nothing left to do: no call, no change.
    worker.wait_for_task(celery.send_task("tasks.verify_email", args=[user["id"], email]).id)
    assert len(calls_for(providers, HUNTER_VERIFY, email)) == 2
    assert user_row(live_app, user["id"]) == row


def test_a_task_for_an_email_the_user_no_longer_has_records_nothing(stack):
    worker = stack.worker()
    down_app = stack.app(CELERY_BROKER_URL=DEAD_BROKER)  # neither the signup nor the change queues anything
    client = down_app.test_client()
    providers = stack.providers
    old_email, new_email = "old.address@example.com", "new.address@example.com"
    user, headers = sign_up_on(client, old_email)
    changed = client.patch("/api/v1/users/me", headers=headers, json={"email": new_email, "current_password": PASSWORD})
    assert changed.status_code == 200, changed.json
    assert (changed.json["email"], changed.json["email_status"]) == (new_email, "pending")

    live_app = stack.app()
    celery = live_app.extensions["celery"]
    for name in ("tasks.verify_email", "tasks.enrich_user"):
        worker.wait_for_task(celery.send_task(name, args=[user["id"], old_email]).id)

    assert providers.requests == []
    row = user_row(live_app, user["id"])
    assert row["email"] == new_email
    assert (row["email_status"], row["enrichment_status"]) == ("pending", "unconfirmed")
    assert (row["email_verification"], row["enrichment"], row["name"]) == (None, None, None)

    # The verification of the address the user has now still runs; its enrichment waits for its proof.
    for name in ("tasks.verify_email", "tasks.enrich_user"):
        celery.send_task(name, args=[user["id"], new_email])
    row = final_row(live_app, user["id"])
    assert (row["email_status"], row["enrichment_status"]) == ("valid", "unconfirmed")
    assert calls_for(providers, HUNTER_VERIFY, old_email) == calls_for(providers, CLEARBIT_COMBINED, old_email) == []
    assert calls_for(providers, CLEARBIT_COMBINED, new_email) == []


# --- 6. SMS delivery on its own queue ---------------------------------------------------------------

def test_the_sms_gateway_delay_is_waited_in_the_worker_not_the_request(stack):
    stack.worker(SMS_BACKEND="outbox", SMS_DELAY_SECONDS="1-2")
    client = stack.app(SMS_BACKEND="outbox").test_client()
    phone = "+79991234567"

    answer = client.post("/api/v1/auth/phone/code", json={"phone": phone})
    assert answer.status_code == 202
    # The request has answered, and the worker is still waiting out the 1-2 s gateway delay.
    assert client.get("/api/v1/dev/sms-outbox", query_string={"phone": phone}).json["items"] == []

    def delivered():
        return client.get("/api/v1/dev/sms-outbox", query_string={"phone": phone}).json["items"]

    [message] = wait_until(delivered, "the SMS to reach the outbox")
    code = re.search(r"Your Agora code is (\d{4})\.", message["body"]).group(1)
    assert code not in answer.get_data(as_text=True)
    signed_in = client.post("/api/v1/auth/phone/verify", json={"phone": phone, "code": code})
    assert (signed_in.status_code, signed_in.json["created"]) == (200, True)


# --- 7. Password reset: who has the address is settled in the worker --------------------------------

def test_a_password_reset_code_is_settled_and_mailed_by_the_real_worker(stack):
    stack.worker(MAIL_BACKEND="outbox")
    client = stack.app(MAIL_BACKEND="outbox").test_client()
    email = "forgetful@example.com"
    _, old_session = sign_up_on(client, email)

    for address in (email, "nobody.here@example.com"):  # the same answer, the same queued job
        answer = client.post("/api/v1/auth/password/forgot", json={"email": address})
        assert (answer.status_code, answer.json) == (202, {})

    def reset_mails(address):
        items = client.get("/api/v1/dev/mail-outbox", query_string={"email": address}).json["items"]
        return [mail for mail in items if mail["subject"] == "Reset your Agora password"]

    [mail] = wait_until(lambda: reset_mails(email), "the reset code to reach the outbox")
    code = re.search(r"code is (\d{6})\.", mail["body"]).group(1)
    reset = client.post("/api/v1/auth/password/reset",
                        json={"email": email, "code": code, "password": "a brand new passphrase"})
    assert reset.status_code == 200, reset.json
    assert reset.json["user"]["email_confirmed"] is True
    assert client.get("/api/v1/users/me", headers=old_session).status_code == 401
    assert reset_mails("nobody.here@example.com") == []
