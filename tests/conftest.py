"""Fixtures: a fresh app per test on SQLite + fakeredis, and the stack tier on PostgreSQL + Redis."""

import os
from contextlib import contextmanager
from functools import partial
import secrets
import uuid

import psycopg
import pytest
import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app
from app.core.settings import NAMES
from app.extensions import db
from tests.accounts import headers_for, sign_up_on
from tests.errors import new_user_id
from tests.fakes import FakeProviderServer

# Variables that configure the app and its processes: the suite sets its own, whatever the shell exports.
APP_VARIABLES = NAMES
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = f"{os.getpid()}_{secrets.token_hex(4)}"


def pytest_configure(config):
    for name in APP_VARIABLES:
        os.environ.pop(name, None)
    os.environ["APP_ENV"] = "testing"


def required(what: str, reason: str):
    """Something a test needs is missing: locally the test skips with the reason; under CI=true it fails.

    The one place a test may skip: CI (``.ci/run`` sets CI=true) runs every tier or fails.
    """
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI needs {what}: {reason}", pytrace=False)
    pytest.skip(f"{what}: {reason}")


def service_unavailable(reason: str):
    """The stack tier's PostgreSQL or Redis is unreachable."""
    required("the stack tier's PostgreSQL and Redis", reason)


def build_app(tmp_path, **overrides):
    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'agora.db'}", **overrides}
    return create_app(config, instance_path=str(tmp_path / "instance"))


def teardown_app(app):
    app.extensions["tasks"].shutdown(wait=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path):
    app = build_app(tmp_path)
    with app.app_context():
        db.create_all()
    yield app
    teardown_app(app)


@pytest.fixture
def make_app(tmp_path):
    """Build apps with config overrides (tables created); each is torn down after the test."""
    apps = []

    def make_app(**overrides):
        app = build_app(tmp_path / f"app{len(apps)}", **overrides)
        with app.app_context():
            db.create_all()
        apps.append(app)
        return app

    yield make_app
    for app in apps:
        teardown_app(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    """An application context, for tests that call services or read the database directly."""
    with app.app_context():
        yield


@pytest.fixture
def sign_up(client):
    """Sign a new user up through the API (``sign_up_on`` the test's client); returns ``(profile, headers)``."""
    return partial(sign_up_on, client)


@pytest.fixture
def auth_headers(app):
    """Headers carrying a fresh access token for a user id."""
    return partial(headers_for, app)


# --- a real browser: Debian's Chromium driven by Playwright ------------------------------------

CHROMIUM = "/usr/bin/chromium"
# Headless as root, and never reaching for the internet at start.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync", "--disable-gpu", "--disable-quic"]


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (a launch costs about a second)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        required("the browser tests' playwright", "it is not installed (pip install -e '.[dev]')")
    if not os.access(CHROMIUM, os.X_OK):
        required("the browser tests' Chromium", f"it is not at {CHROMIUM} (make test puts it there with apt-get)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# --- stack tier: real PostgreSQL and Redis -------------------------------------------------

@pytest.fixture(scope="session")
def postgres_url():
    """A database of this run's own on the real server, dropped at the end."""
    admin = make_url(TEST_DATABASE_URL)
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = psycopg.connect(dsn, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        service_unavailable(f"PostgreSQL at {admin.host}:{admin.port} is unreachable ({exc.__class__.__name__})")
    name = f"agora_test_{RUN_ID}"
    with connection:
        connection.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin.set(database=name).render_as_string(hide_password=False)
        finally:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database_of_its_own(postgres_url: str, name: str):
    """A database ``name`` on the same server, created empty (from template0) and force-dropped afterwards:
    its schema and its statistics are its own."""
    url = make_url(postgres_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_database_url(postgres_url):
    with database_of_its_own(postgres_url, f"{make_url(postgres_url).database}_mig") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url():
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_unavailable(f"Redis at {TEST_REDIS_URL} is unreachable ({exc.__class__.__name__})")
    prefix = f"agora-test-{RUN_ID}:"
    yield TEST_REDIS_URL, prefix
    for key in client.scan_iter(match=f"{prefix}*", count=500):
        client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def postgres_schema(postgres_url, tmp_path_factory):
    """Create the schema once per run (the migration test checks migrations make the same one)."""
    app = build_app(tmp_path_factory.mktemp("schema"), SQLALCHEMY_DATABASE_URI=postgres_url)
    with app.app_context():
        db.create_all()
    teardown_app(app)
    return postgres_url


@pytest.fixture
def pg_app(postgres_schema, redis_url, tmp_path):
    """The app on PostgreSQL and Redis, with empty tables and its own Redis keys."""
    url, prefix = redis_url
    app = build_app(tmp_path, SQLALCHEMY_DATABASE_URI=postgres_schema, REDIS_URL=url,
                    REDIS_KEY_PREFIX=f"{prefix}{uuid.uuid4().hex[:8]}:")
    empty_tables(app)
    yield app
    teardown_app(app)


def empty_tables(app):
    """Every table of a PostgreSQL app emptied, its ids starting again at 1."""
    with app.app_context():
        tables = ", ".join(table.name for table in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()


@pytest.fixture
def pg_client(pg_app):
    return pg_app.test_client()


# --- fake providers ----------------------------------------------------------------------------

@pytest.fixture
def providers():
    """Fake Hunter and Clearbit servers on a free 127.0.0.1 port."""
    with FakeProviderServer() as fake:
        yield fake


def provider_config(providers, **overrides) -> dict:
    """Settings pointing the real clients at the fakes, with fast retries."""
    return {
        "HUNTER_API_KEY": "test-hunter-key", "HUNTER_BASE_URL": providers.hunter_url,
        "CLEARBIT_API_KEY": "test-clearbit-key", "CLEARBIT_BASE_URL": providers.clearbit_url,
        "ENRICHMENT_PROVIDER": "clearbit", "HUNTER_TIMEOUT_SECONDS": 0.5, "CLEARBIT_TIMEOUT_SECONDS": 0.5,
        "INTEGRATION_MAX_ATTEMPTS": 4, "INTEGRATION_BACKOFF_SECONDS": 0.02, "INTEGRATION_BACKOFF_MAX_SECONDS": 0.1,
        **overrides,
    }


# --- fixtures shared by the bad-input tests of each domain ---


@pytest.fixture
def in_app(app):
    """Run a function in its own application context, as a test does between requests.

    Requests then run in contexts of their own (one session each), as they do in production.
    """

    def in_app(function, *args, **kwargs):
        with app.app_context():
            return function(*args, **kwargs)

    return in_app


@pytest.fixture
def user_id(in_app):
    return in_app(new_user_id)


@pytest.fixture
def headers(user_id, auth_headers):
    return auth_headers(user_id)
