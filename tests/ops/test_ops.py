"""Liveness and readiness probes."""

import pytest

from app.extensions import db
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
