"""Request ids: generated, or a trusted proxy's; in the X-Request-ID header, the error body, every log line of the
request, and the background work it queues (the inline runner's threads and Celery's workers)."""

import io
import logging
import re
import time
import uuid
from contextlib import contextmanager

import pytest
import requests

from app.core.logs import attach
from app.core.observability import bind_request_id, current_request_id, incoming_request_id, unbind_request_id
from tests.conftest import build_app, teardown_app
from tests.servers import free_port

GENERATED = re.compile(r"[0-9a-f]{32}")
PHONE = "+79991234567"


@contextmanager
def captured_lines(log_format: str = "text", level: int = logging.INFO):
    """The lines Agora's own handler (format and request id filter) writes while the block runs."""
    stream = io.StringIO()
    handler = attach(logging.StreamHandler(stream), log_format)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield lambda: stream.getvalue().splitlines()
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def wait_for(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return value


# --- the id of a request ---------------------------------------------------------------------------

def test_every_response_carries_a_generated_id(client):
    ids = set()
    for path in ("/healthz", "/api/v1/posts", "/no/such/page", "/", "/openapi.json"):
        response = client.get(path)
        assert GENERATED.fullmatch(response.headers["X-Request-ID"]), path
        ids.add(response.headers["X-Request-ID"])
    assert len(ids) == 5  # one per request


def test_a_client_cannot_pick_its_id_without_trusted_proxies(client):
    response = client.get("/healthz", headers={"X-Request-ID": "chosen-by-the-client"})
    assert GENERATED.fullmatch(response.headers["X-Request-ID"])


def test_the_id_a_trusted_proxy_sends_is_kept(make_app):
    client = make_app(TRUSTED_PROXIES=1).test_client()
    response = client.get("/healthz", headers={"X-Request-ID": "edge-4f2a:17.3_x"})
    assert response.headers["X-Request-ID"] == "edge-4f2a:17.3_x"


@pytest.mark.parametrize("sent", ["", "has space", "semi;colon", "x" * 129, "new\nline", "ünicode"])
def test_an_insane_id_from_a_trusted_proxy_is_replaced(make_app, sent):
    client = make_app(TRUSTED_PROXIES=1).test_client()
    response = client.get("/healthz", environ_base={"HTTP_X_REQUEST_ID": sent})
    assert GENERATED.fullmatch(response.headers["X-Request-ID"])


def test_incoming_request_id_rules():
    assert incoming_request_id("a" * 128, trusted=True) == "a" * 128
    assert GENERATED.fullmatch(incoming_request_id("a" * 128, trusted=False))
    assert GENERATED.fullmatch(incoming_request_id(None, trusted=True))


def test_error_bodies_carry_the_id_of_their_response(client):
    for response in (client.get("/api/v1/posts/999"),  # a domain error
                     client.get("/no/such/page"),  # werkzeug's 404
                     client.post("/api/v1/posts", data="x", content_type="text/plain"),  # a before_request refusal
                     client.post("/api/v1/auth/signup", json={"email": "nope"}),  # a 422 with fields
                     client.get("/api/v1/users/me")):  # a token error
        error = response.json["error"]
        assert error["request_id"] == response.headers["X-Request-ID"], response.json
        assert {"status", "code", "message"} <= set(error)


def test_the_id_is_unset_outside_a_request(client):
    client.get("/healthz")
    assert current_request_id() is None


def test_a_500_carries_the_id_too(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("kaput")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.json["error"]["request_id"] == response.headers["X-Request-ID"]


# --- in the log lines of the request and of its background work ---------------------------------

def test_every_log_line_of_a_request_carries_its_id(make_app):
    app = make_app(TRUSTED_PROXIES=1)

    @app.get("/chatty")
    def chatty():
        logging.getLogger("agora.test").warning("first")
        logging.getLogger("somewhere.else").info("second")
        return {"ok": True}

    with captured_lines() as lines:
        app.test_client().get("/chatty", headers={"X-Request-ID": "req-1"})
        app.test_client().get("/chatty", headers={"X-Request-ID": "req-2"})
        logging.getLogger("agora.test").warning("after")
    mine = [line.split(" [req-1] ", 1)[1] for line in lines() if "[req-1]" in line]
    assert mine[:2] == ["first", "second"]
    assert re.fullmatch(r"GET /chatty 200 \d+\.\d\dms", mine[2]) and len(mine) == 3  # the access line, last
    assert sum("[req-2]" in line for line in lines()) == 3
    assert lines()[-1].endswith("[-] after")


def test_an_inline_task_logs_with_the_id_of_the_request_that_queued_it(make_app):
    app = make_app(TRUSTED_PROXIES=1, SMS_DELAY_SECONDS=(0.0, 0.0))
    with captured_lines() as lines:
        response = app.test_client().post("/api/v1/auth/phone/code", json={"phone": PHONE},
                                          headers={"X-Request-ID": "signin-77"})
        assert response.status_code == 202
        sent = wait_for(lambda: [line for line in lines() if "sms_console" in line])
    assert "[signin-77] sms_console to=+79991234567" in sent[0]
    assert "app.phone.backends" in sent[0]


def test_an_inline_retry_keeps_the_id(make_app):
    app = make_app()
    runner = app.extensions["tasks"]
    from tasks.base import BackgroundTask
    from app.core.retries import Outcome

    seen = []

    def flaky(*, attempt):
        seen.append((attempt, current_request_id()))
        return Outcome(retry_in=0.01) if attempt == 1 else Outcome(status="done")

    token = bind_request_id("queued-by-42")
    try:
        assert runner.submit(BackgroundTask("tests.flaky", "integrations", flaky), ())
    finally:
        unbind_request_id(token)
    wait_for(lambda: len(seen) == 2)
    assert seen == [(1, "queued-by-42"), (2, "queued-by-42")]


# --- Celery: the id travels in a message header --------------------------------------------------

def test_publishing_a_task_adds_the_current_id_to_its_headers():
    from tasks.instrumentation import add_request_id_header

    headers = {}
    add_request_id_header(headers=headers)
    assert headers == {}  # no request: no header
    token = bind_request_id("abc123")
    try:
        add_request_id_header(headers=headers)
    finally:
        unbind_request_id(token)
    assert headers == {"agora_request_id": "abc123"}


def test_a_celery_run_logs_with_the_id_its_message_carried(make_app):
    """An eager run goes through the same prerun and postrun signals as a worker's."""
    app = make_app(CELERY_BROKER_URL="memory://", SMS_DELAY_SECONDS=(0.0, 0.0))
    celery_app = app.extensions["celery"]
    from app.phone.crypto import seal

    with app.app_context(), captured_lines() as lines:
        celery_app.tasks["tasks.send_sms_code"].apply(args=[PHONE, seal("1234")],
                                                      headers={"agora_request_id": "from-the-web"})
    skipped = [line for line in lines() if "sms_skipped" in line]  # no live code: skipped, and logged
    assert skipped and "[from-the-web]" in skipped[0]
    assert current_request_id() is None  # postrun cleared it


def test_celery_text_format_puts_the_id_after_the_prefix():
    from tasks.instrumentation import celery_text_format

    assert celery_text_format("[%(asctime)s: %(levelname)s/%(processName)s] %(message)s") == (
        "[%(asctime)s: %(levelname)s/%(processName)s] [%(request_id)s] %(message)s")
    assert celery_text_format("%(message)s") == "[%(request_id)s] %(message)s"


def test_celery_handlers_get_the_filter_and_the_format():
    from tasks import instrumentation

    logger = logging.getLogger(f"tests.celery.{uuid.uuid4().hex}")
    stream = io.StringIO()
    logger.addHandler(logging.StreamHandler(stream))
    logger.propagate = False
    instrumentation.format_celery_logs(logger=logger, format="[%(levelname)s/%(processName)s] %(message)s",
                                     colorize=False)
    token = bind_request_id("task-run-9")
    try:
        logger.warning("hello")
    finally:
        unbind_request_id(token)
    assert stream.getvalue() == "[WARNING/MainProcess] [task-run-9] hello\n"


# --- the real stack: a web request, a Celery worker, its log and its metrics ---------------------

@pytest.mark.stack
def test_a_worker_logs_with_the_request_id_and_serves_its_metrics(redis_url, tmp_path):
    """The worker decision of the README: it serves its pool's metrics (multiprocess files) on its own port."""
    from tests.stack.worker_process import Worker, worker_env

    url, prefix = redis_url
    port = free_port()
    settings = {"DATABASE_URL": f"sqlite:///{tmp_path / 'agora.db'}", "REDIS_URL": url,
                "REDIS_KEY_PREFIX": f"{prefix}{uuid.uuid4().hex[:8]}:", "SMS_DELAY_SECONDS": "0",
                "SECRET_KEY": "request-id-test-secret-key-of-32-bytes", "JWT_SECRET_KEY": "request-id-test-jwt-key-32-bytes!"}
    web = build_app(tmp_path / "web", SQLALCHEMY_DATABASE_URI=settings["DATABASE_URL"], REDIS_URL=url,
                    REDIS_KEY_PREFIX=settings["REDIS_KEY_PREFIX"], SMS_DELAY_SECONDS=(0.0, 0.0), TRUSTED_PROXIES=1,
                    SECRET_KEY=settings["SECRET_KEY"], JWT_SECRET_KEY=settings["JWT_SECRET_KEY"])
    worker = Worker(worker_env({"APP_ENV": "testing", "LOG_LEVEL": "INFO", **settings, "WORKER_METRICS_PORT": port,
                                "PROMETHEUS_MULTIPROC_DIR": tmp_path / "worker-metrics"}),
                    tmp_path / "worker.log", concurrency=2)
    try:
        worker.start()
        response = web.test_client().post("/api/v1/auth/phone/code", json={"phone": PHONE},
                                          headers={"X-Request-ID": "web-req-5150"})
        assert response.status_code == 202, response.json
        line = worker.wait_for(r".*sms_console to=\+79991234567.*", what="the SMS")
        assert "[web-req-5150]" in line.group(0)
        assert re.search(r"\[web-req-5150\] Task tasks\.send_sms_code\[[\w-]+\] succeeded", worker.log())

        scraped = wait_for(lambda: (text := requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
                           and 'outcome="success"' in text and text)
        assert 'agora_task_runs_total{outcome="success",provider="console",task="tasks.send_sms_code"} 1.0' in scraped
        assert 'agora_phone_codes_delivered_total{backend="console"} 1.0' in scraped
        refused = requests.get(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": "Bearer wrong"},
                               timeout=5)
        assert refused.status_code == 200  # from 127.0.0.1: allowed by the default networks
        assert requests.get(f"http://127.0.0.1:{port}/other", timeout=5).status_code == 404
    finally:
        worker.stop()
        print(worker.tail(80))
        teardown_app(web)
