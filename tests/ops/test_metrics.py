"""GET /metrics: who may read it, what it counts, the queue depths, and the sum over gunicorn's worker processes."""

import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fakeredis
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from app.core.metrics import MetricsAccess, QueueDepthCollector, scrape_registry
from tests.accounts import PASSWORD, bearer
from tests.conftest import provider_config
from tests.core.test_production import entry_point_env
from tests.core.test_request_ids import wait_for
from tests.mail.outbox import mailed_code
from tests.servers import gunicorn

ROOT = Path(__file__).resolve().parents[2]
PHONE = "+79991234567"
OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}
TOKEN = "m" * 40


def samples(text: str) -> dict:
    """``{(sample name, ((label, value), ...)): value}`` of a scrape."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(client, **kwargs) -> str:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.data
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return response.get_data(as_text=True)


# --- who may read it -------------------------------------------------------------------------------

def test_loopback_may_read_it_by_default(client):
    assert "agora_http_request_duration_seconds" in scrape(client)
    assert "agora_http_request_duration_seconds" in scrape(client, environ_base={"REMOTE_ADDR": "::1"})


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_anyone_else_gets_the_404_of_an_address_that_does_not_exist(client, method):
    refused = client.open("/metrics", method=method, environ_base=OUTSIDE)
    missing = client.open("/no-such-thing", method=method, environ_base=OUTSIDE)
    assert (refused.status_code, missing.status_code) == (404, 404)
    if method != "HEAD":
        strip = lambda body: {**body["error"], "request_id": None}  # noqa: E731
        assert strip(refused.json) == strip(missing.json)
    assert "Allow" not in refused.headers


def test_a_bearer_token_opens_it_from_anywhere(make_app):
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    assert "agora_" in scrape(client, environ_base=OUTSIDE, headers=bearer(TOKEN))
    for wrong in (f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN, "Bearer "):
        assert client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": wrong}).status_code == 404


def test_configured_networks_replace_loopback(make_app):
    client = make_app(METRICS_ALLOWED_NETWORKS=("10.0.0.0/8",)).test_client()
    assert client.get("/metrics").status_code == 404  # 127.0.0.1 is no longer listed
    assert scrape(client, environ_base={"REMOTE_ADDR": "10.20.30.40"})
    closed = make_app(METRICS_ALLOWED_NETWORKS=()).test_client()
    assert closed.get("/metrics").status_code == 404


def test_behind_a_trusted_proxy_the_client_address_decides(make_app):
    client = make_app(TRUSTED_PROXIES=1).test_client()
    forwarded = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})  # the proxy itself is loopback
    assert forwarded.status_code == 404


def test_metrics_access_rules():
    access = MetricsAccess(("192.168.0.0/16", "::1/128"), "secret")
    assert access.allows("192.168.4.4", None) and access.allows("::ffff:192.168.4.4", None)
    assert not access.allows("192.169.0.1", None) and not access.allows("not an address", None)
    assert access.allows("8.8.8.8", "Bearer secret") and access.allows("8.8.8.8", "bearer secret")
    assert not access.allows(None, None)
    assert not MetricsAccess((), None).allows("127.0.0.1", "Bearer ")


def test_metrics_are_not_in_the_openapi_document(client):
    assert "/metrics" not in client.get("/openapi.json").json["paths"]


# --- what it counts ----------------------------------------------------------------------------------

def test_a_scrape_after_a_few_requests_shows_the_numbers_moved(make_app, providers):
    app = make_app(**provider_config(providers), SMS_DELAY_SECONDS=(0.0, 0.0), MAIL_BACKEND="outbox")
    client = app.test_client()
    before = scrape(client)

    for _ in range(3):
        assert client.get("/api/v1/posts").status_code == 200
    assert client.get("/api/v1/posts/424242").status_code == 404
    signed_up = client.post("/api/v1/auth/signup", json={"email": "ann@example.com", "password": PASSWORD})
    assert signed_up.status_code == 201
    assert client.post("/api/v1/auth/email/confirm", json={"code": mailed_code(client, "ann@example.com")},
                       headers=bearer(signed_up.json["access_token"])).status_code == 200
    assert client.post("/api/v1/auth/phone/code", json={"phone": PHONE}).status_code == 202
    assert client.post("/api/v1/auth/phone/code", json={"phone": PHONE}).status_code == 429
    assert client.post("/api/v1/auth/phone/verify", json={"phone": PHONE, "code": "0000"}).status_code in (400, 200)

    def moved():
        text = scrape(client)
        done = (value(text, "agora_provider_calls_total", provider="hunter", endpoint="email-verifier", status="200")
                > value(before, "agora_provider_calls_total", provider="hunter", endpoint="email-verifier", status="200")
                and value(text, "agora_provider_calls_total", provider="clearbit", endpoint="combined/find", status="200")
                > value(before, "agora_provider_calls_total", provider="clearbit", endpoint="combined/find", status="200")
                and value(text, "agora_task_runs_total", task="tasks.enrich_user", provider="clearbit", outcome="success")
                > value(before, "agora_task_runs_total", task="tasks.enrich_user", provider="clearbit", outcome="success")
                and value(text, "agora_phone_codes_delivered_total", backend="console")
                > value(before, "agora_phone_codes_delivered_total", backend="console"))
        return text if done else None

    after = wait_for(moved)
    delta = lambda name, **labels: value(after, name, **labels) - value(before, name, **labels)  # noqa: E731
    count = "agora_http_request_duration_seconds_count"
    assert delta(count, method="GET", route="/api/v1/posts", status="200") == 3
    assert delta(count, method="GET", route="/api/v1/posts/<id:post_id>", status="404") == 1
    assert delta(count, method="POST", route="/api/v1/auth/signup", status="201") == 1
    assert delta("agora_http_request_duration_seconds_bucket", method="GET", route="/api/v1/posts", status="200",
                 le="+Inf") == 3
    assert delta("agora_provider_calls_total", provider="clearbit", endpoint="combined/find", status="200") == 1
    assert delta("agora_provider_call_duration_seconds_count", provider="hunter", endpoint="email-verifier") == 1
    assert delta("agora_phone_codes_issued_total") == 1
    assert delta("agora_phone_codes_refused_total", action="issue", reason="resend_too_soon") == 1
    assert delta("agora_phone_codes_refused_total", action="verify", reason="invalid_code") + \
        delta("agora_phone_codes_verified_total") == 1  # "0000" is right once in 10,000
    assert delta("agora_task_runs_total", task="tasks.verify_email", provider="hunter", outcome="success") == 1
    assert delta("agora_task_runs_total", task="tasks.send_sms_code", provider="console", outcome="success") == 1
    assert delta("agora_task_duration_seconds_count", task="tasks.enrich_user", provider="clearbit") == 1
    # No user data in any label: not the email, not the phone, not the id asked for.
    assert "ann@example.com" not in after and "79991234567" not in after and "424242" not in after


def test_refusals_are_counted_by_reason(client):
    before = scrape(client)
    assert client.post("/api/v1/auth/phone/code", json={"phone": "+10000000000"}).status_code == 422  # no such number
    client.post("/api/v1/auth/phone/verify", json={"phone": PHONE, "code": "1234"})
    after = scrape(client)
    assert value(after, "agora_phone_codes_refused_total", action="issue", reason="validation_error") - \
        value(before, "agora_phone_codes_refused_total", action="issue", reason="validation_error") == 1
    assert value(after, "agora_phone_codes_refused_total", action="verify", reason="code_expired") - \
        value(before, "agora_phone_codes_refused_total", action="verify", reason="code_expired") == 1


def test_an_unknown_method_is_one_label_value(client):
    from app.core.metrics import observe_request

    observe_request("BREW", "unmatched", 405, 0.001)
    assert value(scrape(client), "agora_http_request_duration_seconds_count", method="other", route="unmatched",
                 status="405") >= 1


def test_a_failing_inline_task_is_counted_as_a_failure(app):
    from tasks.base import BackgroundTask

    def broken():
        raise RuntimeError("no")

    client = app.test_client()
    before = value(scrape(client), "agora_task_runs_total", task="tests.broken", provider="", outcome="failure")
    app.extensions["tasks"].submit(BackgroundTask("tests.broken", "integrations", broken, retried=False), ())
    wait_for(lambda: value(scrape(client), "agora_task_runs_total", task="tests.broken", provider="",
                           outcome="failure") == before + 1)


# --- queue depths ------------------------------------------------------------------------------------

def test_queue_depth_reads_every_priority_list_of_each_queue():
    redis = fakeredis.FakeRedis()
    redis.lpush("p:sms", "a", "b")
    redis.lpush("p:sms\x06\x166", "c")
    redis.lpush("p:integrations\x06\x169", "d")
    redis.lpush("other:sms", "not ours")
    text = scrape_text(QueueDepthCollector(lambda: redis, "p:", ("integrations", "sms")))
    assert value(text, "agora_celery_queue_length", queue="sms") == 3
    assert value(text, "agora_celery_queue_length", queue="integrations") == 1
    assert value(text, "agora_celery_broker_up") == 1


def test_queue_depth_says_when_the_broker_is_away():
    def unreachable():
        raise ConnectionError("down")

    text = scrape_text(QueueDepthCollector(unreachable, "p:", ("sms",)))
    assert value(text, "agora_celery_broker_up") == 0
    assert "agora_celery_queue_length" not in text


def test_the_inline_runner_reports_no_queue_depth(client):
    assert "agora_celery_queue_length" not in scrape(client)


def scrape_text(collector) -> str:
    from prometheus_client import generate_latest

    return generate_latest(scrape_registry(collector)).decode()


@pytest.mark.stack
def test_queue_depth_of_the_real_broker_moves_with_queued_tasks(make_app, redis_url, providers):
    """No worker consumes this test's prefix: what the web app queues stays in the lists."""
    url, prefix = redis_url
    app = make_app(REDIS_URL=url, REDIS_KEY_PREFIX=f"{prefix}{uuid.uuid4().hex[:8]}:", **provider_config(providers))
    assert app.extensions["task_queues"] == ("integrations", "mail", "sms")
    client = app.test_client()
    before = scrape(client)
    assert value(before, "agora_celery_broker_up") == 1
    assert value(before, "agora_celery_queue_length", queue="integrations") == 0
    for n in range(2):
        assert client.post("/api/v1/auth/signup",
                           json={"email": f"q{n}@example.com", "password": PASSWORD}).status_code == 201
    assert client.post("/api/v1/auth/phone/code", json={"phone": PHONE}).status_code == 202
    after = scrape(client)
    assert value(after, "agora_celery_queue_length", queue="integrations") == 2  # verify per signup: enrich waits
    assert value(after, "agora_celery_queue_length", queue="mail") == 2  # a confirmation code per signup
    assert value(after, "agora_celery_queue_length", queue="sms") == 1


# --- multiprocess mode ----------------------------------------------------------------------------

@pytest.mark.timeout(90)
def test_under_gunicorn_a_scrape_adds_up_every_worker_process(tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_999999.db").write_bytes(b"left by a previous run")  # the master must clear it
    env = entry_point_env(tmp_path, APP_ENV="testing", DATABASE_URL=f"sqlite:///{tmp_path / 'agora.db'}",
                          WEB_CONCURRENCY="2", GUNICORN_THREADS="4", LOG_FORMAT="json", LOG_LEVEL="INFO",
                          PROMETHEUS_MULTIPROC_DIR=str(directory))
    migrate = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert migrate.returncode == 0, migrate.stderr
    log_path = tmp_path / "gunicorn.log"
    with gunicorn(env, log_path) as url:
        assert not (directory / "counter_999999.db").exists()
        served_by = set()
        total = 0
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(10):  # until both workers answered some: the kernel picks who accepts
                answers = list(pool.map(lambda _: requests.get(f"{url}/api/v1/posts", timeout=10), range(24)))
                assert all(answer.status_code == 200 for answer in answers)
                total += len(answers)
                served_by = {line["process"] for line in json_lines(log_path)
                             if line.get("logger") == "agora.access" and line.get("route") == "/api/v1/posts"}
                if len(served_by) >= 2:
                    break
        assert len(served_by) == 2, "one worker answered every request"
        scraped = requests.get(f"{url}/metrics", timeout=10)
        assert scraped.status_code == 200
        count = value(scraped.text, "agora_http_request_duration_seconds_count", method="GET",
                      route="/api/v1/posts", status="200")
        assert count == total
        files = {name.rpartition("_")[2] for name in os.listdir(directory) if name.startswith("histogram_")}
        assert {f"{pid}.db" for pid in served_by} <= files
        assert requests.get(f"{url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"},
                            timeout=10).status_code == 200  # TRUSTED_PROXIES=0: the header is not believed
    lines = json_lines(log_path)
    assert any("Listening at" in line.get("message", "") for line in lines)  # gunicorn's own lines: JSON too
    raw = [line for line in log_path.read_text().splitlines() if line.strip()]
    assert len(raw) == len(lines), "every line of the log is one JSON object"


def json_lines(path: Path) -> list[dict]:
    import json

    found = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


# --- the Celery worker's own endpoint ----------------------------------------------------------------

def test_the_worker_metrics_app_applies_the_same_access_rule():
    from tasks.instrumentation import worker_metrics_app

    app = worker_metrics_app(MetricsAccess(("127.0.0.1/32",), TOKEN), scrape_registry())

    def call(path="/metrics", method="GET", address="127.0.0.1", authorization=None):
        seen = {}
        environ = {"PATH_INFO": path, "REQUEST_METHOD": method, "REMOTE_ADDR": address}
        if authorization:
            environ["HTTP_AUTHORIZATION"] = authorization
        body = b"".join(app(environ, lambda status, headers: seen.update(status=status, headers=dict(headers))))
        return seen["status"], body

    status, body = call()
    assert status == "200 OK" and b"agora_task_runs_total" in body
    assert call(address="203.0.113.9")[0] == "404 Not Found"
    assert call(address="203.0.113.9", authorization=f"Bearer {TOKEN}")[0] == "200 OK"
    assert call(path="/")[0] == "404 Not Found" and call(method="POST")[0] == "404 Not Found"
    assert b'"code": "not_found"' in call(path="/")[1]


def test_a_worker_without_a_sample_directory_serves_nothing_and_says_why(monkeypatch, caplog):
    from tasks import instrumentation

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setitem(instrumentation._settings, "config", {"WORKER_METRICS_PORT": 9, "METRICS_TOKEN": None})
    assert instrumentation.serve_worker_metrics() is None
    assert "PROMETHEUS_MULTIPROC_DIR is not" in caplog.text
    monkeypatch.setitem(instrumentation._settings, "config", {"WORKER_METRICS_PORT": None})
    assert instrumentation.serve_worker_metrics() is None  # off: not even a line


@pytest.mark.timeout(60)
def test_the_worker_server_adds_up_the_samples_of_its_pool_processes(tmp_path):
    """What a prefork worker does, in miniature: two processes record task runs, the server reads both."""
    directory = tmp_path / "worker-metrics"
    record = ("from app.core.metrics import record_task_run\n"
              "record_task_run('tasks.send_sms_code', 'console', 'success', 0.2)\n")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", record], cwd=ROOT, env=env, check=True, timeout=50)
    serve = (
        "import sys, requests\n"
        "from tasks import instrumentation\n"
        "config = {'WORKER_METRICS_PORT': 0, 'WORKER_METRICS_ADDRESS': '127.0.0.1',\n"
        "          'METRICS_ALLOWED_NETWORKS': ('127.0.0.1/32',), 'METRICS_TOKEN': None}\n"
        "server = instrumentation.start_metrics_server(config)\n"
        "print(requests.get('http://127.0.0.1:%d/metrics' % server.server_address[1], timeout=5).text)\n"
    )
    result = subprocess.run([sys.executable, "-c", serve], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=50)
    assert result.returncode == 0, result.stderr
    assert value(result.stdout, "agora_task_runs_total", task="tasks.send_sms_code", provider="console",
                 outcome="success") == 2
    assert value(result.stdout, "agora_task_duration_seconds_count", task="tasks.send_sms_code",
                 provider="console") == 2


def test_invented_methods_add_one_series_whatever_their_number(client):
    from app.core import metrics

    client.open("/healthz", method="BREW0")
    before = len(metrics._request_series)
    for n in range(1, 500):
        client.open("/healthz", method=f"BREW{n}")
    assert len(metrics._request_series) == before
    assert value(scrape(client), "agora_http_request_duration_seconds_count", method="other", route="unmatched",
                 status="405") >= 500
