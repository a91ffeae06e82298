"""Liveness and readiness probes."""

import time

import pytest

from app.extensions import db, redis_store
from app.ops.models import newest_heartbeat, record_heartbeat
from tests.conftest import build_app, teardown_app

DEAD_REDIS = "redis://127.0.0.1:1/0"
DEAD_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/none"


def test_healthz_is_200_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_200_when_database_and_redis_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "redis": "ok"}
    assert "Retry-After" not in response.headers


@pytest.fixture
def dead_redis_app(tmp_path):
    app = build_app(tmp_path, REDIS_URL=DEAD_REDIS)
    with app.app_context():
        db.create_all()
    yield app
    teardown_app(app)


@pytest.fixture
def dead_database_app(tmp_path):
    app = build_app(tmp_path, SQLALCHEMY_DATABASE_URI=DEAD_DATABASE)
    yield app
    teardown_app(app)


def assert_not_ready(response, failing: str, healthy: str) -> dict:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["status"] == 503
    assert error["code"] == "not_ready"
    assert failing in error["message"]
    assert healthy not in error["message"]
    assert error["checks"][failing] != "ok"
    assert error["checks"][healthy] == "ok"
    retry_after = response.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit() and int(retry_after) > 0, retry_after
    return error


def test_readyz_is_503_not_ready_naming_redis_when_redis_is_down(dead_redis_app):
    response = dead_redis_app.test_client().get("/readyz")
    assert_not_ready(response, "redis", "database")


def test_readyz_is_503_not_ready_naming_database_when_database_is_down(dead_database_app):
    response = dead_database_app.test_client().get("/readyz")
    assert_not_ready(response, "database", "redis")


def test_healthz_stays_200_when_dependencies_are_down(dead_redis_app):
    response = dead_redis_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_recovers_after_a_database_failure(dead_database_app):
    """A failed check leaves no broken session behind: the next probe answers the same way, not a 500."""
    client = dead_database_app.test_client()
    first = client.get("/readyz")
    second = client.get("/readyz")
    assert first.status_code == second.status_code == 503
    assert second.get_json()["error"]["code"] == "not_ready"


# --- with a broker: the broker and a worker's heartbeat -----------------------------------------

@pytest.fixture
def broker_app(tmp_path):
    """Redis in process (fakeredis), tasks to a broker that does not answer (nothing listens on port 1)."""
    app = build_app(tmp_path, CELERY_BROKER_URL=DEAD_REDIS, WORKER_HEARTBEAT_MAX_AGE_SECONDS=30)
    with app.app_context():
        db.create_all()
    yield app
    teardown_app(app)


def readiness_checks(app) -> dict:
    response = app.test_client().get("/readyz")
    assert response.status_code == 503, response.get_data(as_text=True)
    return response.get_json()["error"]["checks"]


def test_readyz_names_an_unreachable_broker_and_a_worker_never_seen(broker_app):
    assert readiness_checks(broker_app) == {"database": "ok", "redis": "ok", "broker": "unreachable",
                                            "worker": "missing"}


def test_a_recent_heartbeat_is_a_worker_seen_and_an_old_one_is_stale(broker_app):
    with broker_app.app_context():
        record_heartbeat("celery@one", now=time.time() - 5)
    assert readiness_checks(broker_app)["worker"] == "ok"
    with broker_app.app_context():
        record_heartbeat("celery@one", now=time.time() - 31)
    assert readiness_checks(broker_app)["worker"] == "stale"
    with broker_app.app_context():
        record_heartbeat("celery@two", now=time.time())  # another worker is alive: ready for work
    assert readiness_checks(broker_app)["worker"] == "ok"


def test_heartbeats_older_than_a_day_are_forgotten(broker_app):
    with broker_app.app_context():
        record_heartbeat("celery@gone", now=time.time() - 90_000)
        assert newest_heartbeat() == pytest.approx(time.time() - 90_000, abs=5)  # old, but the newest known
        record_heartbeat("celery@here", now=time.time())
        assert redis_store.client.zrange(redis_store.key("workers", "heartbeats"), 0, -1) == ["celery@here"]


def test_without_a_broker_readiness_asks_no_broker_or_worker(client):
    assert set(client.get("/readyz").get_json()["checks"]) == {"database", "redis"}


def test_readyz_of_a_streaming_process_names_events_when_it_cannot_read_the_fan_out(tmp_path):
    """A streaming process (it serves streams, with a Redis server) is asked about the fan-out, not about a worker."""
    app = build_app(tmp_path, REDIS_URL=DEAD_REDIS, EVENTS_SERVED_HERE=True)
    try:
        with app.app_context():
            db.create_all()
        response = app.test_client().get("/readyz")
        error = assert_not_ready(response, "events", "database")
        assert error["checks"]["events"] == "not_reading"
        assert "broker" not in error["checks"] and "worker" not in error["checks"]
    finally:
        app.extensions["events_hub"].stop()
        teardown_app(app)
