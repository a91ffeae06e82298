"""The task registry: one declaration per task, and both runtimes (Celery, inline) built from it."""

import importlib.util
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from celery.exceptions import Retry

from app.auth.services import mail_reset_code
from app.core.retries import Outcome
from app.mail.services import deliver_mail_attempt
from app.phone.services import deliver_code_attempt
from app.profile_checks.services import enrich_user_attempt, resume_profile_checks, verify_email_attempt
from tasks import registry
from tasks.base import BackgroundTask, run_once
from tasks.celery_app import CeleryQueue, celery_run
from tasks.inline import InlineRunner
from tasks.instrumentation import task_providers
from tests.conftest import build_app

ROOT = Path(__file__).resolve().parents[2]


def test_every_task_is_declared_once_with_its_queue():
    assert {name: (task.queue, task.function) for name, task in registry.TASKS.items()} == {
        "tasks.verify_email": ("integrations", verify_email_attempt),
        "tasks.enrich_user": ("integrations", enrich_user_attempt),
        "tasks.resume_profile_checks": ("integrations", resume_profile_checks),
        "tasks.send_sms_code": ("sms", deliver_code_attempt),
        "tasks.send_mail_code": ("mail", deliver_mail_attempt),
        "tasks.mail_reset_code": ("mail", mail_reset_code),
    }
    assert registry.QUEUES == ("integrations", "mail", "sms")


def test_a_function_finds_its_task_and_a_stray_one_is_named():
    assert registry.task_of(deliver_code_attempt).name == "tasks.send_sms_code"
    with pytest.raises(KeyError, match="no background task runs tests.tasks.test_registry.stray"):
        registry.task_of(stray)


def stray():
    """Queued by no service."""


def test_celery_gets_its_tasks_routes_and_schedule_from_the_registry(tmp_path):
    app = build_app(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    try:
        celery = app.extensions["celery"]
        assert isinstance(app.extensions["tasks"], CeleryQueue)
        assert set(registry.TASKS) <= set(celery.tasks)
        assert celery.conf.task_routes == {"tasks.verify_email": {"queue": "integrations"},
                                           "tasks.enrich_user": {"queue": "integrations"},
                                           "tasks.resume_profile_checks": {"queue": "integrations"},
                                           "tasks.send_sms_code": {"queue": "sms"},
                                           "tasks.send_mail_code": {"queue": "mail"},
                                           "tasks.mail_reset_code": {"queue": "mail"}}
        assert celery.conf.beat_schedule == {"tasks.resume_profile_checks": {
            "task": "tasks.resume_profile_checks", "schedule": 300.0}}
        assert [queue.name for queue in celery.conf.task_queues] == ["integrations", "mail", "sms"]
        # A running worker sweeps for a dead worker's unacknowledged tasks every 2 s (kombu: ~100 s).
        options = celery.conf.broker_transport_options
        assert (options["unacked_restore_interval"], options["unacked_restore_throttle"]) == (2, 1)
    finally:
        app.extensions["tasks"].shutdown()


def test_celery_reads_its_settings_from_the_top_level_celeryconfig(tmp_path):
    app = build_app(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    try:
        conf = app.extensions["celery"].conf
        assert (conf.task_acks_late, conf.worker_prefetch_multiplier, conf.task_time_limit) == (True, 1, 120)
        assert importlib.util.find_spec("celeryconfig").origin == str(ROOT / "celeryconfig.py")
    finally:
        app.extensions["tasks"].shutdown()


def test_the_embedded_default_runs_the_registry_inline(app):
    assert isinstance(app.extensions["tasks"], InlineRunner)
    assert "celery" not in app.extensions
    assert set(app.extensions["tasks"].pools) == set(registry.QUEUES)


def flaky(log: list, *, attempt: int) -> Outcome:
    log.append(attempt)
    return Outcome(retry_in=0.01) if attempt < 3 else Outcome(status="done")


def test_one_run_reports_the_delay_before_the_next_attempt():
    task = BackgroundTask("tests.flaky", "sms", flaky)
    assert run_once(task, ([],), attempt=1) == 0.01
    assert run_once(task, ([],), attempt=3) is None
    once = BackgroundTask("tests.once", "sms", lambda log: log.append("ran"), retried=False)
    log = []
    assert run_once(once, (log,), attempt=1) is None and log == ["ran"]


def test_the_inline_runner_retries_on_its_timer_until_the_outcome_is_final(app):
    attempts = []
    done = threading.Event()

    def counting(log, *, attempt):
        outcome = flaky(log, attempt=attempt)
        if outcome.final:
            done.set()
        return outcome

    app.extensions["tasks"].submit(BackgroundTask("tests.flaky", "integrations", counting), (attempts,))
    assert done.wait(5)
    assert attempts == [1, 2, 3]


def test_a_celery_run_asks_celery_for_a_retry_with_the_outcomes_delay():
    run = celery_run(BackgroundTask("tests.flaky", "sms", flaky))
    retries = []

    def retry(*, countdown, max_retries):
        retries.append((countdown, max_retries))
        return Retry()

    calls = []
    with pytest.raises(Retry):
        run(SimpleNamespace(request=SimpleNamespace(retries=0), retry=retry), calls)
    assert retries == [(0.01, None)] and calls == [1]
    run(SimpleNamespace(request=SimpleNamespace(retries=2), retry=retry), calls)  # attempt 3: final, no retry
    assert calls == [1, 3] and len(retries) == 1


def test_a_broker_that_refuses_is_false_not_an_error(tmp_path):
    app = build_app(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    try:
        with app.app_context():
            assert app.extensions["tasks"].enqueue(deliver_code_attempt, ("+79991234567", "sealed")) is False
    finally:
        app.extensions["tasks"].shutdown()


def test_a_retry_due_after_shutdown_is_dropped_not_an_error(tmp_path):
    app = build_app(tmp_path)
    runner = app.extensions["tasks"]
    runner.shutdown(wait=True)
    assert runner.submit(BackgroundTask("tests.flaky", "sms", flaky), ([],), attempt=2) is False
    with app.app_context():
        assert runner.enqueue(deliver_code_attempt, ("+79991234567", "sealed")) is False


def test_each_celery_app_has_tasks_of_its_own(tmp_path):
    """Tasks run in their own Flask app's context: two apps in one process never share a task object."""
    apps = [build_app(tmp_path / name, CELERY_BROKER_URL="redis://127.0.0.1:1/0") for name in ("one", "two")]
    try:
        first, second = (app.extensions["celery"] for app in apps)
        for name in registry.TASKS:
            assert first.tasks[name] is not second.tasks[name]
            assert first.tasks[name].app is first and second.tasks[name].app is second
    finally:
        for app in apps:
            app.extensions["tasks"].shutdown()


def test_each_task_names_the_provider_it_calls_from_the_configuration():
    assert task_providers({"ENRICHMENT_PROVIDER": "clearbit", "SMS_BACKEND": "outbox", "MAIL_BACKEND": "outbox"}) == {
        "tasks.verify_email": "hunter", "tasks.enrich_user": "clearbit", "tasks.send_sms_code": "outbox",
        "tasks.send_mail_code": "outbox"}
    assert task_providers({"ENRICHMENT_PROVIDER": None, "SMS_BACKEND": "twilio", "MAIL_BACKEND": "smtp"}) == {
        "tasks.verify_email": "hunter", "tasks.send_sms_code": "twilio", "tasks.send_mail_code": "smtp"}


def test_a_task_the_broker_refuses_is_logged_by_name_without_its_arguments(tmp_path, caplog):
    app = build_app(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    try:
        with caplog.at_level("WARNING", logger="tasks.celery_app"):
            queued = app.extensions["tasks"].enqueue(verify_email_attempt, (7, "ann.private@example.com"))
    finally:
        app.extensions["tasks"].shutdown()
    assert queued is False
    assert "could not queue task=tasks.verify_email" in caplog.text
    assert "ann.private" not in caplog.text and "example.com" not in caplog.text


def test_a_failing_inline_task_is_logged_by_name_without_its_arguments(app, caplog):
    failed = threading.Event()

    def broken(user_id, email):
        failed.set()
        raise RuntimeError("the provider is away")

    with caplog.at_level("ERROR", logger="tasks.inline"):
        app.extensions["tasks"].submit(BackgroundTask("tests.broken", "integrations", broken, retried=False),
                                       (7, "ann.private@example.com"))
        assert failed.wait(5)
        app.extensions["tasks"].shutdown(wait=True)
    assert "inline task failed task=tests.broken attempt=1" in caplog.text
    assert "ann.private" not in caplog.text
