"""LOG_FORMAT: text lines with the request id, or one JSON object per line with the fields operators filter on."""

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.logs import RequestIdFilter, StderrHandler, attach, configure_logging
from app.integrations.http import RedactSecrets, install_log_redaction
from tests.accounts import PASSWORD, bearer
from tests.conftest import provider_config
from tests.core.test_request_ids import captured_lines, wait_for
from tests.mail.outbox import mailed_code

ROOT = Path(__file__).resolve().parents[2]


def parsed(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines]


def test_json_lines_carry_the_fields_of_the_access_line(make_app):
    app = make_app(TRUSTED_PROXIES=1)
    with captured_lines("json") as lines:
        app.test_client().get("/api/v1/posts/12345", headers={"X-Request-ID": "json-1"})
    records = parsed(lines())
    access = [record for record in records if record["logger"] == "agora.access"]
    assert len(access) == 1
    line = access[0]
    assert {key: line[key] for key in ("level", "logger", "request_id", "route", "method", "status")} == {
        "level": "INFO", "logger": "agora.access", "request_id": "json-1", "route": "/api/v1/posts/<id:post_id>",
        "method": "GET", "status": 404}
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["message"].startswith("GET /api/v1/posts/<id:post_id> 404 ")
    assert line["timestamp"].endswith("+00:00") and "T" in line["timestamp"]
    assert "12345" not in json.dumps(line)  # the route, never the path


def test_json_lines_outside_a_request_have_a_null_request_id():
    with captured_lines("json") as lines:
        logging.getLogger("agora.test").warning("plain %s", "words", extra={"answer": 42})
    (line,) = parsed(lines())
    assert (line["message"], line["request_id"], line["answer"], line["level"]) == ("plain words", None, 42, "WARNING")


def test_json_exceptions_are_one_line_with_their_traceback():
    with captured_lines("json") as lines:
        try:
            raise ValueError("bad thing")
        except ValueError:
            logging.getLogger("agora.test").exception("it broke")
    (raw,) = lines()
    line = json.loads(raw)
    assert line["message"] == "it broke" and "ValueError: bad thing" in line["exc_info"]


def test_provider_call_lines_keep_their_fields_and_never_their_key(make_app, providers):
    app = make_app(**provider_config(providers), TRUSTED_PROXIES=1, MAIL_BACKEND="outbox")
    client = app.test_client()
    with captured_lines("json") as lines:
        response = client.post("/api/v1/auth/signup", headers={"X-Request-ID": "signup-3"},
                               json={"email": "ann@example.com", "password": PASSWORD})
        assert response.status_code == 201
        # Enrichment waits for the address to be confirmed: its call carries the confirmation's id.
        confirmed = client.post("/api/v1/auth/email/confirm", json={"code": mailed_code(client, "ann@example.com")},
                                headers={"X-Request-ID": "confirm-3", **bearer(response.json["access_token"])})
        assert confirmed.status_code == 200
        calls = wait_for(lambda: [r for r in parsed(lines()) if r["message"].startswith("provider_call")][:2]
                         if sum(r["message"].startswith("provider_call") for r in parsed(lines())) >= 2 else None)
    # the inline tasks' lines carry the id of the request that queued them
    assert {(call["provider"], call["request_id"]) for call in calls} == {("hunter", "signup-3"),
                                                                         ("clearbit", "confirm-3")}
    for call in calls:
        assert {"endpoint", "status", "latency_ms", "attempt"} <= set(call)
    assert "test-hunter-key" not in "\n".join(lines()) and "test-clearbit-key" not in "\n".join(lines())


def test_urls_logged_by_libraries_are_still_redacted_in_json():
    install_log_redaction()
    logger = logging.getLogger("urllib3.connectionpool")
    assert any(isinstance(existing, RedactSecrets) for existing in logger.filters)
    with captured_lines("json", level=logging.DEBUG) as lines:
        logger.debug('"GET /v2/email-verifier?email=a%40b.c&api_key=sekrit HTTP/1.1" 200 None')
    (line,) = parsed(lines())
    assert "sekrit" not in line["message"] and "api_key=[redacted]" in line["message"]


def test_celery_task_arguments_stay_out_of_json_lines():
    with captured_lines("json") as lines:
        logging.getLogger("celery.worker.strategy").info("Task %(name)s[%(id)s] received",
                                                         {"name": "tasks.send_sms_code", "id": "1"},
                                                         extra={"data": {"args": "('+79991234567', 'sealed')"}})
    (line,) = parsed(lines())
    assert line["message"] == "Task tasks.send_sms_code[1] received" and "data" not in line


def test_text_lines_show_the_request_id_after_the_logger():
    with captured_lines("text") as lines:
        logging.getLogger("agora.test").warning("hello")
    assert lines()[0].endswith(" WARNING agora.test [-] hello")


@pytest.fixture
def root_logger():
    """The root logger with no handlers at WARNING (and gunicorn's error logger), restored afterwards."""
    root, server = logging.getLogger(), logging.getLogger("gunicorn.error")
    saved = (root.handlers[:], root.level, server.handlers[:])
    root.handlers, server.handlers = [], []
    root.setLevel(logging.WARNING)
    yield root
    root.handlers, server.handlers = saved[0], saved[2]
    root.setLevel(saved[1])  # setLevel, not the attribute: it also clears the loggers' level caches


def test_configure_logging_installs_one_handler_like_basic_config(root_logger):
    root = root_logger
    root.handlers = []  # pytest adds its own for the test's call
    gunicorn_handler = logging.StreamHandler()
    logging.getLogger("gunicorn.error").handlers = [gunicorn_handler]
    configure_logging("DEBUG", "json")
    configure_logging("INFO", "json")  # a second app in the same process: still one handler
    (handler,) = root.handlers
    assert isinstance(handler, StderrHandler) and root.level == logging.INFO
    assert [type(f) for f in handler.filters] == [RequestIdFilter]
    assert type(handler.formatter).__name__ == "JsonLogFormatter"
    assert type(gunicorn_handler.formatter).__name__ == "JsonLogFormatter"  # gunicorn's own lines, as JSON


def test_configure_logging_leaves_a_host_applications_handlers_alone(root_logger):
    root = root_logger
    theirs = logging.NullHandler()
    root.handlers = [theirs]
    configure_logging("DEBUG", "text")
    assert root.handlers == [theirs] and root.level == logging.WARNING


def test_attach_is_idempotent():
    handler = attach(attach(logging.StreamHandler(), "text"), "json")
    assert len(handler.filters) == 1


@pytest.mark.timeout(60)
def test_an_app_with_log_format_json_writes_only_json_to_stderr(tmp_path):
    """A fresh process, as an entry point runs: every stderr line is one JSON object."""
    script = (
        "from app import create_app\n"
        "from app.extensions import db\n"
        f"app = create_app({{'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path}/a.db'}}, instance_path='{tmp_path}/i')\n"
        "with app.app_context():\n    db.create_all()\n"
        "client = app.test_client()\n"
        "client.get('/api/v1/posts')\nclient.get('/nowhere')\n"
        "app.extensions['tasks'].shutdown(wait=True)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHON_DOTENV_DISABLED": "1", "APP_ENV": "testing",
           "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=50)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    routes = [(line["route"], line["status"]) for line in lines if line["logger"] == "agora.access"]
    assert routes == [("/api/v1/posts", 200), ("unmatched", 404)]
    assert all(set(line) >= {"timestamp", "level", "logger", "message", "request_id"} for line in lines)
