"""The Postman collection (postman/): newman runs it green against a live server, and it covers every operation.

The server is started the way ``make serve`` starts it (``gunicorn --config gunicorn.conf.py wsgi:app``) on the
embedded default: an SQLite file and fakeredis, tasks in-process, the SMS outbox backend with no delivery delay,
the mail outbox backend with a one-second resend cooldown (so the collection asks a second code in its run).
Under ``CI=true`` a missing newman fails the run (``make test`` installs it); locally it skips.
"""

import json
import os
import re
import shutil
import signal
import subprocess

import pytest

from tests.conftest import build_app, required, teardown_app
from tests.servers import ROOT, gunicorn, migrate, server_env

POSTMAN = ROOT / "postman"
COLLECTION = POSTMAN / "agora.postman_collection.json"
ENVIRONMENT = POSTMAN / "agora.postman_environment.json"
NEWMAN = POSTMAN / "node_modules" / ".bin" / "newman"
NEWMAN_TIMEOUT = 90.0
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")


@pytest.fixture
def newman() -> str:
    """The project's newman (``make test`` runs ``npm ci`` in postman/), else one on PATH."""
    if NEWMAN.exists():
        return str(NEWMAN)
    found = shutil.which("newman")
    if found:
        return found
    required("newman", f"it is not installed: `make test` installs it ({NEWMAN.relative_to(ROOT)}), "
                       "or run `npm ci` in postman/")


def run(command: list[str], env: dict, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """Run ``command`` in a session of its own; whatever it leaves behind is killed."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True, **kwargs)
    timed_out = False
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if timed_out:
        output, _ = process.communicate()
        pytest.fail(f"{command[0]} did not finish within {timeout}s:\n{output}", pytrace=False)
    return subprocess.CompletedProcess(command, process.returncode, output, None)


@pytest.fixture
def live_server(tmp_path):
    """``make serve``'s gunicorn on a migrated SQLite file under tmp_path; yields its URL and log, always stopped."""
    env = server_env(tmp_path, EMAIL_CODE_RESEND_SECONDS="1")
    migrate(env)
    log_path = tmp_path / "gunicorn.log"
    with gunicorn(env, log_path) as url:
        yield url, log_path


def test_newman_runs_the_collection_green_against_a_live_server(newman, live_server, tmp_path):
    url, server_log = live_server
    report_path = tmp_path / "newman.json"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "NO_UPDATE_NOTIFIER": "1"}
    result = run([newman, "run", str(COLLECTION), "-e", str(ENVIRONMENT), "--env-var", f"base_url={url}",
                  "--reporters", "cli,json", "--reporter-json-export", str(report_path), "--color", "off",
                  "--timeout-request", "10000"], env, timeout=NEWMAN_TIMEOUT)
    output = f"{result.stdout[-20000:]}\n--- server log (end) ---\n{server_log.read_text(errors='replace')[-5000:]}"
    assert result.returncode == 0, f"newman exited with {result.returncode}:\n{output}"

    run_report = json.loads(report_path.read_text())["run"]
    stats = run_report["stats"]
    assert run_report["failures"] == [], output
    assert stats["assertions"]["failed"] == 0, output
    assert stats["requests"]["failed"] == 0, output
    assert stats["testScripts"]["failed"] == 0 and stats["prerequestScripts"]["failed"] == 0, output
    # Every request ran (the loops only add runs), each with its checks.
    assert stats["requests"]["total"] >= len(collection_requests(load_collection())), output
    assert stats["assertions"]["total"] >= 3 * stats["requests"]["total"], output


# --- coverage: every operation of /openapi.json has a request ---------------------------------------

def load_collection() -> dict:
    return json.loads(COLLECTION.read_text())


def collection_requests(node: dict) -> list[tuple[str, list[str], str]]:
    """``(METHOD, path segments, name)`` of every request, folders flattened."""
    found = []
    for item in node.get("item", []):
        if "request" in item:
            request = item["request"]
            url = request["url"]
            raw = url if isinstance(url, str) else url.get("raw", "")
            path = raw.split("?", 1)[0].replace("{{base_url}}", "", 1)
            found.append((request["method"].upper(), [segment for segment in path.split("/") if segment], item["name"]))
        found.extend(collection_requests(item))
    return found


def is_variable(segment: str) -> bool:
    """A Postman path parameter (``:post_id``) or variable (``{{post_id}}``)."""
    return segment.startswith(":") or bool(re.fullmatch(r"\{\{[^{}]+\}\}", segment))


def matches(template: list[str], segments: list[str]) -> bool:
    """A request's path fills an OpenAPI path template: literal segments equal; a ``{param}`` is a Postman
    variable (``{{post_id}}``, ``:post_id``) or an id (``2147483647``), so ``/users/me`` is not ``/users/{user_id}``."""
    if len(template) != len(segments):
        return False
    return all(is_variable(segment) or segment.isdigit() if re.fullmatch(r"\{[^{}]+\}", part) else part == segment
               for part, segment in zip(template, segments))


@pytest.fixture
def openapi(tmp_path):
    """The document the live server serves (the outbox backends add the dev outbox operations)."""
    app = build_app(tmp_path, SMS_BACKEND="outbox", MAIL_BACKEND="outbox")
    try:
        response = app.test_client().get("/openapi.json")
        assert response.status_code == 200
        return response.json
    finally:
        teardown_app(app)


def operations(document: dict) -> list[tuple[str, list[str]]]:
    return [(method.upper(), [segment for segment in path.split("/") if segment])
            for path, item in document["paths"].items() for method in item if method in METHODS]


def test_every_operation_has_a_request_in_the_collection(openapi):
    requests_ = collection_requests(load_collection())
    missing = [f"{method} /{'/'.join(template)}" for method, template in operations(openapi)
               if not any(method == verb and matches(template, segments) for verb, segments, _ in requests_)]
    assert missing == [], f"operations of /openapi.json with no request in {COLLECTION.name}: {missing}"


def test_every_request_in_the_collection_is_an_operation(openapi):
    templates = operations(openapi)
    stray = [f"{name}: {method} /{'/'.join(segments)}" for method, segments, name in collection_requests(load_collection())
             if not any(method == verb and matches(template, segments) for verb, template in templates)]
    assert stray == [], f"requests in {COLLECTION.name} that /openapi.json does not document: {stray}"


def test_the_collection_is_postman_v2_1_with_a_test_on_every_request():
    collection = load_collection()
    assert collection["info"]["schema"] == "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    environment = json.loads(ENVIRONMENT.read_text())
    assert {value["key"]: value["value"] for value in environment["values"]}["base_url"] == "http://127.0.0.1:8000"

    def items(node):
        for item in node.get("item", []):
            yield item
            yield from items(item)

    for item in items(collection):
        if "request" in item:
            tests = [event for event in item.get("event", []) if event["listen"] == "test"]
            assert tests and "pm.test(" in "\n".join(tests[0]["script"]["exec"]), item["name"]
            assert item["request"].get("description"), item["name"]
