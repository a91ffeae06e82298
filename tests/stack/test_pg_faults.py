"""PostgreSQL connections killed under the app: every answer stays the spec's JSON, and the app recovers."""

import random
import threading
import time

import psycopg
import pytest
import requests
from flask import request
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from app.extensions import db
from tests.accounts import bearer, sign_up_over_http
from tests.stack.web_process import WebServer, stack_server_env

pytestmark = pytest.mark.stack

CLIENTS = 8
REQUESTS_PER_CLIENT = 25  # a burst of 200
SUCCESS = {200, 201}
REQUEST_TIMEOUT = 10
KILL_PAUSE_SECONDS = (0.005, 0.03)


def terminate_backends(connection: psycopg.Connection, database: str) -> int:
    """Kill every session on ``database`` but our own; returns how many were killed."""
    rows = connection.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (database,),
    ).fetchall()
    return sum(1 for (killed,) in rows if killed)


def admin_connection(database_url: str) -> psycopg.Connection:
    """A connection of our own, on the server's maintenance database, to kill the app's sessions from."""
    url = make_url(database_url).set(drivername="postgresql", database="postgres")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True, connect_timeout=3)


def describe(response: requests.Response) -> str:
    return f"{response.request.method} {response.request.path_url} -> {response.status_code} " \
           f"{response.headers.get('Content-Type')}: {response.text[:300]!r}"


def is_acceptable(response: requests.Response) -> bool:
    """A success, or the spec's 503 with Retry-After; always JSON."""
    if response.headers.get("Content-Type") != "application/json":
        return False
    if response.status_code in SUCCESS:
        return True
    error = response.json().get("error", {})
    return (response.status_code == 503 and error.get("status") == 503 and error.get("code") == "service_unavailable"
            and bool(error.get("message")) and response.headers.get("Retry-After") is not None)


@pytest.fixture
def server(pg_app, redis_url, tmp_path):
    """gunicorn serving the app on the test database: two workers of eight threads, as deployed."""
    with WebServer(stack_server_env(pg_app, redis_url), tmp_path / "gunicorn.log") as web:
        yield web


def mixed_requests(base: str, headers: dict, count: int, seed: int):
    """``count`` calls, a random mix of listing posts, reading oneself and writing a post."""
    rng = random.Random(seed)
    for index in range(count):
        choice = rng.randrange(3)
        if choice == 0:
            yield "GET", f"{base}/api/v1/posts", {}
        elif choice == 1:
            yield "GET", f"{base}/api/v1/users/me", {"headers": headers}
        else:
            yield "POST", f"{base}/api/v1/posts", {"headers": headers, "json": {"body": f"post {seed}-{index}"}}


def burst(base: str, headers: list[dict], per_client: int, seed: int) -> tuple[list[requests.Response], list[str]]:
    """One client thread per user, each with its own keep-alive session; returns the answers and transport errors."""
    answers: list[requests.Response] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client(number: int):
        with requests.Session() as session:
            for method, url, options in mixed_requests(base, headers[number], per_client, seed + number):
                try:
                    response = session.request(method, url, timeout=REQUEST_TIMEOUT, **options)
                except requests.RequestException as exc:
                    with lock:
                        failures.append(f"{method} {url}: {exc!r}")
                    continue
                with lock:
                    answers.append(response)

    threads = [threading.Thread(target=client, args=(number,), name=f"client-{number}") for number in range(len(headers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a client thread hung"
    return answers, failures


class Killer(threading.Thread):
    """Terminates the app's PostgreSQL sessions every few milliseconds until stopped."""

    def __init__(self, database_url: str):
        super().__init__(name="pg-killer")
        self.database_url = database_url
        self.database = make_url(database_url).database
        self.stopping = threading.Event()
        self.killed = 0
        self.error: BaseException | None = None

    def run(self):
        rng = random.Random(99)
        try:
            with admin_connection(self.database_url) as connection:
                while not self.stopping.is_set():
                    self.killed += terminate_backends(connection, self.database)
                    self.stopping.wait(rng.uniform(*KILL_PAUSE_SECONDS))
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)
        assert not self.is_alive(), "the killer thread hung"
        assert self.error is None, repr(self.error)


def test_killed_connections_answer_json_503_and_the_next_requests_succeed(server, pg_app):
    headers = [bearer(sign_up_over_http(server.url, f"fault{number}@example.com", name=f"F {number}")["access_token"])
               for number in range(CLIENTS)]
    killer = Killer(pg_app.config["SQLALCHEMY_DATABASE_URI"])
    started = time.monotonic()
    killer.start()
    try:
        answers, failures = burst(server.url, headers, REQUESTS_PER_CLIENT, seed=0)
    finally:
        killer.stop()
    elapsed = time.monotonic() - started

    assert not failures, failures
    assert len(answers) == CLIENTS * REQUESTS_PER_CLIENT
    assert killer.killed > 0, "the killer never caught a connection of the app"
    bad = [describe(response) for response in answers if not is_acceptable(response)]
    unavailable = sum(1 for response in answers if response.status_code == 503)
    assert not bad, f"{len(bad)} of {len(answers)} answers were neither a JSON success nor the spec's 503 " \
                    f"({killer.killed} backends killed in {elapsed:.1f}s, {unavailable} answered 503):\n" \
                    + "\n".join(bad[:10]) + f"\n--- gunicorn log (tail) ---\n{server.log()[-4000:]}"

    # The killer has stopped: the pools drop the dead connections and every request succeeds again.
    answers, failures = burst(server.url, headers, 5, seed=1000)
    assert not failures, failures
    bad = [describe(response) for response in answers
           if response.status_code not in SUCCESS or response.headers.get("Content-Type") != "application/json"]
    assert not bad, bad


# --- the teardown itself, deterministically: the request's own connection dies before its ROLLBACK ----------


@pytest.fixture
def backend_pid_route(pg_app):
    """``GET /test/backend-pid`` reads the session's backend pid in a transaction it leaves open;
    ``?kill=1`` has PostgreSQL terminate that backend before the view returns."""
    admin = admin_connection(pg_app.config["SQLALCHEMY_DATABASE_URI"])

    def backend_pid():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        if request.args.get("kill"):
            # waits until the backend is gone, so the teardown's ROLLBACK meets a dead connection
            assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone() == (True,)
        return {"pid": pid}

    pg_app.add_url_rule("/test/backend-pid", view_func=backend_pid)
    yield pg_app.test_client()
    admin.close()


def teardown_records(caplog):
    return [record for record in caplog.records if record.name == "app.core.database"]


def test_connection_dropped_before_the_teardown_rollback_is_discarded_not_a_500(pg_app, backend_pid_route, caplog):
    client = backend_pid_route
    killed = client.get("/test/backend-pid?kill=1")  # without the fix, the ROLLBACK's error escapes the test client

    assert killed.status_code == 200 and killed.mimetype == "application/json"
    records = teardown_records(caplog)
    assert [(record.levelname, record.exc_info) for record in records] == [("WARNING", None)], records
    assert "connection lost" in records[0].getMessage()
    with pg_app.app_context():
        assert db.engine.pool.checkedout() == 0
    after = client.get("/test/backend-pid")
    assert after.status_code == 200
    assert after.json["pid"] != killed.json["pid"]  # a new connection, not the dead one


def test_any_failure_ending_the_session_is_logged_once_and_its_connection_discarded(pg_app, backend_pid_route, caplog):
    client = backend_pid_route
    failing = {"rollbacks": 0}
    with pg_app.app_context():
        engine = db.engine

    def rollback_fails_once(_connection):
        if failing["rollbacks"] == 0:
            failing["rollbacks"] += 1
            raise RuntimeError("rollback failed")

    first = client.get("/test/backend-pid")
    event.listen(engine, "rollback", rollback_fails_once)
    try:
        failed = client.get("/test/backend-pid")
    finally:
        event.remove(engine, "rollback", rollback_fails_once)

    assert failed.status_code == 200 and failed.mimetype == "application/json"
    assert failed.json["pid"] == first.json["pid"]  # the pooled connection was reused until the failure
    records = teardown_records(caplog)
    assert [record.levelname for record in records] == ["ERROR"], records
    assert records[0].exc_info[0] is RuntimeError
    with pg_app.app_context():
        assert db.engine.pool.checkedout() == 0
    assert client.get("/test/backend-pid").json["pid"] != failed.json["pid"]  # invalidated, not returned to the pool


# --- the checkout check that replaces pool_pre_ping --------------------------------------------


def wait_until_gone(admin: psycopg.Connection, pid: int) -> None:
    assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone() == (True,)


def test_a_pooled_connection_the_server_closed_is_replaced_before_it_is_handed_out(pg_app):
    admin = admin_connection(pg_app.config["SQLALCHEMY_DATABASE_URI"])
    statements = []
    try:
        with pg_app.app_context():
            engine = db.engine
            event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
            with engine.connect() as connection:
                first = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            # back in the pool, idle: the server now ends it
            wait_until_gone(admin, first)
            statements.clear()
            with engine.connect() as connection:
                second = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    finally:
        admin.close()

    assert second != first
    assert statements == ["SELECT pg_backend_pid()"], "the checkout made a round trip of its own (a ping)"


def test_a_live_pooled_connection_is_handed_out_again_without_a_round_trip(pg_app):
    statements = []
    with pg_app.app_context():
        engine = db.engine
        with engine.connect() as connection:
            first = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        with engine.connect() as connection:
            again = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert again == first
    assert statements == ["SELECT pg_backend_pid()"]
