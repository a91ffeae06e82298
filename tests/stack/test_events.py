"""Live events on the real stack (SPEC 12): Redis, the API's gunicorn (sync workers), a Celery worker and the
streaming process (gunicorn's gevent worker, app.events.wsgi), each a process of its own.

Every event reaches exactly its recipients; resume, resync, tickets, logout, the cap and heartbeats behave as the
contract says; a streaming process killed and started again loses nothing for a client that resumes.
"""

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.events import models as events
from app.extensions import db

from tests.accounts import bearer, sign_up_over_http
from tests.conftest import provider_config
from tests.fakes import HUNTER_VERIFY, Answer, FakeProviderServer, hunter_verification
from tests.servers import ROOT, StreamingProcess, gunicorn
from tests.stack.worker_process import Worker, worker_env

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]

HEARTBEAT_SECONDS = 1
MAX_STREAMS = 2
RETENTION = 5
# Long enough for an event that would wrongly be sent to arrive: the fan-out is read within milliseconds.
QUIET_SECONDS = 1.5
WAIT_SECONDS = 10.0
END = object()


@pytest.fixture(scope="module")
def stack(postgres_schema, redis_url, tmp_path_factory):
    """The API, a worker and a streaming process on one database and one Redis prefix of their own."""
    url, prefix = redis_url
    logs = tmp_path_factory.mktemp("events-stack")
    with FakeProviderServer() as providers:
        settings = {
            **provider_config(providers, HUNTER_TIMEOUT_SECONDS=5, CLEARBIT_API_KEY=None, ENRICHMENT_PROVIDER=None),
            "APP_ENV": "development", "DATABASE_URL": postgres_schema, "REDIS_URL": url,
            "REDIS_KEY_PREFIX": f"{prefix}events-{uuid.uuid4().hex[:8]}:",
            "SECRET_KEY": "events-stack-test-secret-key-of-32-bytes", "JWT_SECRET_KEY": "events-stack-test-jwt-key-of-32-bytes!",
            "PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 1024, "RATELIMIT_ENABLED": "false",
            "MAIL_BACKEND": "outbox", "SMS_BACKEND": "outbox", "WEB_CONCURRENCY": 2,
            "EVENTS_HEARTBEAT_SECONDS": HEARTBEAT_SECONDS, "EVENTS_MAX_STREAMS_PER_USER": MAX_STREAMS,
            "EVENTS_RETENTION": RETENTION,
        }
        env = worker_env(settings)
        worker = Worker(env, logs / "worker.log").start()
        streams = StreamingProcess(env, logs / "streams.log")
        try:
            streams.start()
            with gunicorn(env, logs / "api.log") as api:
                yield Stack(api, streams, env, providers, logs)
        finally:
            streams.stop()
            worker.stop()


class Stack:
    def __init__(self, api: str, streams: StreamingProcess, env: dict, providers, logs):
        self.api, self.streams, self.env, self.providers, self.logs = api, streams, env, providers, logs

    def call(self, method: str, path: str, user: dict | None = None, **kwargs) -> requests.Response:
        headers = bearer(user["access_token"]) if user else {}
        return requests.request(method, f"{self.api}/api/v1{path}", headers=headers, timeout=10, **kwargs)

    def sign_up(self, name: str, *, wait_for_checks: bool = True) -> dict:
        """A new user; by default once their address check has ended, so its profile.updated is behind them."""
        email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
        answer = sign_up_over_http(self.api, email, name=name)
        user = {**answer, "id": answer["user"]["id"], "name": name}
        deadline = time.monotonic() + WAIT_SECONDS
        while wait_for_checks and self.call("GET", "/users/me", user).json()["email_status"] == "pending":
            assert time.monotonic() < deadline, "the address check never ended"
            time.sleep(0.05)
        return user

    def open(self, user: dict | None = None, *, base: str | None = None, **kwargs) -> "EventStream":
        """``user``'s stream by bearer token (or as ``kwargs`` say: a ticket, Last-Event-ID)."""
        headers = {**(bearer(user["access_token"]) if user else {}), **kwargs.pop("headers", {})}
        return EventStream(f"{base or self.streams.url}/api/v1/events", headers=headers, **kwargs)

    def conversation(self, creator: dict, *others: dict) -> int:
        answer = self.call("POST", "/conversations", creator,
                           json={"title": "Live", "participant_ids": [other["id"] for other in others]})
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def say(self, user: dict, conversation_id: int, body: str) -> dict:
        answer = self.call("POST", f"/conversations/{conversation_id}/messages", user, json={"body": body})
        assert answer.status_code == 201, answer.text
        return answer.json()


class EventStream:
    """One SSE stream read by a thread: each event as ``{id, event, data}``, comments as strings, then END."""

    def __init__(self, url: str, **kwargs):
        self.response = requests.get(url, stream=True, timeout=(5, 30), **kwargs)
        self.status = self.response.status_code
        self.items: queue.Queue = queue.Queue()
        self.events: list[dict] = []
        self.comments: list[str] = []
        self.ended = False
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        fields: dict = {}
        try:
            for line in self.response.iter_lines(chunk_size=None, decode_unicode=True):
                if line == "":
                    if "event" in fields:
                        self.items.put(fields)
                    fields = {}
                elif line.startswith(":"):
                    self.items.put(line[1:].strip())
                else:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        except (requests.RequestException, OSError, AttributeError):
            pass  # closed by the test, or by a server that was killed
        self.items.put(END)

    def _take(self, timeout: float) -> bool:
        try:
            item = self.items.get(timeout=max(timeout, 0))
        except queue.Empty:
            return False
        if item is END:
            self.ended = True
        elif isinstance(item, dict):
            self.events.append(item)
        else:
            self.comments.append(item)
        return True

    def until(self, done, timeout: float = WAIT_SECONDS) -> "EventStream":
        """Read until ``done(self)``; fail with what arrived after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not done(self):
            assert not self.ended or done(self), f"the stream ended early: {self.events}"
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; received {self.events}, comments {self.comments}")
            self._take(deadline - time.monotonic())
        return self

    def wait_events(self, count: int, timeout: float = WAIT_SECONDS) -> list[dict]:
        return self.until(lambda stream: len(stream.events) >= count, timeout).events

    def settle(self, seconds: float = QUIET_SECONDS) -> list[dict]:
        """Everything that arrives within ``seconds`` more."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.ended:
            self._take(deadline - time.monotonic())
        return self.events

    def named(self) -> list[str]:
        return [event["event"] for event in self.events]

    def close(self) -> None:
        self.response.close()


@pytest.fixture
def opened():
    """Streams a test opened, closed at its end."""
    streams: list[EventStream] = []
    yield streams
    for stream in streams:
        stream.close()


def watch(stack: Stack, opened: list, *users: dict) -> list[EventStream]:
    """An open stream for each of ``users``, once each reads the fan-out (its opening comment has arrived)."""
    streams = [stack.open(user) for user in users]
    opened.extend(streams)
    for stream in streams:
        assert stream.status == 200, stream.response.text
        stream.until(lambda s: "open" in s.comments)
    return streams


def data(event: dict) -> dict:
    return json.loads(event["data"])


# --- every event reaches exactly its recipients ----------------------------------------------------------------

def test_a_conversation_and_its_messages_reach_every_participant_and_nobody_else(stack, opened):
    ann, bob, eve = stack.sign_up("Ann"), stack.sign_up("Bob"), stack.sign_up("Eve")
    to_ann, to_bob, to_eve = watch(stack, opened, ann, bob, eve)

    conversation_id = stack.conversation(ann, bob)
    posted = stack.say(bob, conversation_id, "Hello Ann")

    for stream in (to_ann, to_bob):
        created, message = stream.wait_events(2)
        assert created["event"] == "conversation.created"
        conversation = data(created)["conversation"]
        assert conversation["id"] == conversation_id
        assert {participant["id"] for participant in conversation["participants"]} == {ann["id"], bob["id"]}
        assert message["event"] == "message.created"
        assert data(message) == {"conversation_id": conversation_id, "message": posted["message"]}
        assert int(created["id"].split("-")[0]) > 0 and created["id"] != message["id"]
    for stream in (to_ann, to_bob, to_eve):
        stream.settle()
    assert to_ann.named() == to_bob.named() == ["conversation.created", "message.created"]
    assert to_eve.events == []


def test_the_tenth_message_reaches_every_participant_with_its_congratulation(stack, opened):
    ann, bob, eve = stack.sign_up("Ann"), stack.sign_up("Bob"), stack.sign_up("Eve")
    conversation_id = stack.conversation(ann, bob)
    to_ann, to_bob, to_eve = watch(stack, opened, ann, bob, eve)

    answers = [stack.say(ann, conversation_id, f"message {number}") for number in range(1, 11)]
    reward = answers[-1]["reward"]
    assert reward is not None and reward["kind"] == "reward"

    for stream in (to_ann, to_bob):
        events = stream.wait_events(11)
        assert [event["event"] for event in events] == ["message.created"] * 11
        assert [data(event)["message"]["id"] for event in events] == [
            *(answer["message"]["id"] for answer in answers), reward["id"]]
        assert data(events[-1])["message"]["kind"] == "reward" and data(events[-1])["message"]["author"] is None
    for stream in (to_ann, to_bob, to_eve):
        stream.settle()
    assert len(to_ann.events) == len(to_bob.events) == 11
    assert to_eve.events == []


def test_a_like_and_its_removal_reach_the_posts_author_alone(stack, opened):
    ann, bob, eve = stack.sign_up("Ann"), stack.sign_up("Bob"), stack.sign_up("Eve")
    post = stack.call("POST", "/posts", ann, json={"body": "Live post"}).json()
    to_ann, to_bob, to_eve = watch(stack, opened, ann, bob, eve)

    assert stack.call("POST", f"/posts/{post['id']}/like", bob).status_code == 201
    assert stack.call("DELETE", f"/posts/{post['id']}/like", bob).status_code == 200

    liked, unliked = to_ann.wait_events(2)
    assert (liked["event"], data(liked)) == (
        "like.created", {"post_id": post["id"], "user": {"id": bob["id"], "name": "Bob"}, "like_count": 1})
    assert (unliked["event"], data(unliked)) == (
        "like.deleted", {"post_id": post["id"], "user_id": bob["id"], "like_count": 0})
    for stream in (to_ann, to_bob, to_eve):
        stream.settle()
    assert len(to_ann.events) == 2 and to_bob.events == [] and to_eve.events == []


def test_a_background_check_reaches_the_user_alone(stack, opened):
    bob, eve = stack.sign_up("Bob"), stack.sign_up("Eve")
    # The check answers after the stream is open: its result is a live event, not one from before.
    stack.providers.script(HUNTER_VERIFY, Answer(200, hunter_verification("ignored@example.com"), delay=2))
    ann = stack.sign_up("Ann", wait_for_checks=False)
    to_ann, to_bob, to_eve = watch(stack, opened, ann, bob, eve)

    (updated,) = to_ann.wait_events(1)
    assert updated["event"] == "profile.updated"
    assert data(updated)["email_status"] == "valid"
    assert data(updated)["enrichment_status"] == stack.call("GET", "/users/me", ann).json()["enrichment_status"]
    for stream in (to_ann, to_bob, to_eve):
        stream.settle()
    assert len(to_ann.events) == 1 and to_bob.events == [] and to_eve.events == []


def test_a_referral_reaches_the_invite_codes_owner_alone(stack, opened):
    ann, bob, eve = stack.sign_up("Ann"), stack.sign_up("Bob"), stack.sign_up("Eve")
    code = stack.call("GET", "/users/me", ann).json()["invite_code"]
    to_ann, to_bob, to_eve = watch(stack, opened, ann, bob, eve)

    answer = stack.call("POST", "/users/me/invite", bob, json={"invite_code": code.lower()})
    assert answer.status_code == 200, answer.text

    (referral,) = to_ann.wait_events(1)
    assert referral["event"] == "referral.created"
    # `referral` as GET /users/me/referrals lists it ({user, contact, referred_at}).
    listed = stack.call("GET", "/users/me/referrals", ann).json()["items"]
    assert data(referral) == {"referral": listed[0], "referral_count": 1}
    assert listed[0]["user"] == {"id": bob["id"], "name": "Bob"}
    for stream in (to_ann, to_bob, to_eve):
        stream.settle()
    assert len(to_ann.events) == 1 and to_bob.events == [] and to_eve.events == []


def test_an_event_is_not_sent_for_a_write_that_rolled_back(stack, opened):
    """A write that queued its event and then failed in PostgreSQL sends nothing; the next one that commits does."""
    ann = stack.sign_up("Ann")
    (to_ann,) = watch(stack, opened, ann)
    app = create_app({"SQLALCHEMY_DATABASE_URI": stack.env["DATABASE_URL"], "REDIS_URL": stack.env["REDIS_URL"],
                      "REDIS_KEY_PREFIX": stack.env["REDIS_KEY_PREFIX"]})
    try:
        with app.app_context():
            events.publish_after_commit(events.profile_updated(ann["id"], "rolled", "back"))
            with pytest.raises(IntegrityError):  # the user exists: the transaction fails in the database
                db.session.execute(text("INSERT INTO users (id, invite_code) VALUES (:id, 'DUPLI1')"), {"id": ann["id"]})
            db.session.rollback()
            events.publish_after_commit(events.profile_updated(ann["id"], "committed", "after"))
            db.session.commit()
    finally:
        with app.app_context():
            db.engine.dispose()
    to_ann.wait_events(1)
    assert [data(event)["email_status"] for event in to_ann.settle()] == ["committed"]


# --- resume, resync --------------------------------------------------------------------------------------------

def test_resume_after_a_disconnect_delivers_what_was_missed_in_order_and_nothing_twice(stack, opened):
    ann, bob = stack.sign_up("Ann"), stack.sign_up("Bob")
    conversation_id = stack.conversation(bob, ann)
    (to_ann,) = watch(stack, opened, ann)
    first = [stack.say(bob, conversation_id, f"before {n}")["message"]["id"] for n in range(2)]
    seen = to_ann.wait_events(2)
    to_ann.close()

    missed = [stack.say(bob, conversation_id, f"while away {n}")["message"]["id"] for n in range(3)]
    resumed = stack.open(ann, headers={"Last-Event-ID": seen[-1]["id"]})
    opened.append(resumed)
    assert resumed.status == 200, resumed.response.text
    later = stack.say(bob, conversation_id, "after")["message"]["id"]

    events = resumed.wait_events(4)
    resumed.settle()
    assert [data(event)["message"]["id"] for event in seen] == first
    assert [data(event)["message"]["id"] for event in resumed.events] == [*missed, later]
    ids = [event["id"] for event in [*seen, *events]]
    assert len(set(ids)) == len(ids) and ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))


def test_an_id_older_than_what_is_kept_gets_resync_first(stack, opened):
    ann, bob = stack.sign_up("Ann"), stack.sign_up("Bob")
    conversation_id = stack.conversation(bob, ann)
    (to_ann,) = watch(stack, opened, ann)
    stack.say(bob, conversation_id, "the first")
    (first,) = to_ann.wait_events(1)
    to_ann.close()
    # Redis trims a stream by whole nodes of 100 entries (MAXLEN ~): past one node, the first is gone.
    for number in range(110):
        stack.say(bob, conversation_id, f"flood {number}")

    resumed = stack.open(ann, headers={"Last-Event-ID": first["id"]})
    opened.append(resumed)
    assert resumed.status == 200, resumed.response.text
    later = stack.say(bob, conversation_id, "after the resync")["message"]["id"]
    resync, live = resumed.wait_events(2)
    assert (resync["event"], data(resync)) == ("resync", {})
    assert live["event"] == "message.created" and data(live)["message"]["id"] == later
    resumed.settle()
    assert resumed.named() == ["resync", "message.created"]


# --- tickets, logout, the cap, heartbeats ----------------------------------------------------------------------

def test_a_ticket_opens_one_stream_once(stack, opened):
    ann = stack.sign_up("Ann")
    ticket = stack.call("POST", "/events/ticket", ann)
    assert ticket.status_code == 201, ticket.text

    first = stack.open(params={"ticket": ticket.json()["ticket"]})
    opened.append(first)
    assert first.status == 200, first.response.text
    first.until(lambda s: "open" in s.comments)
    again = stack.open(params={"ticket": ticket.json()["ticket"]})
    opened.append(again)
    assert again.status == 401
    assert again.response.json()["error"]["code"] == "invalid_ticket"


def test_logout_closes_an_open_stream_with_session_revoked(stack, opened):
    ann = stack.sign_up("Ann")
    (to_ann,) = watch(stack, opened, ann)
    answer = stack.call("POST", "/auth/logout", ann, json={"refresh_token": ann["refresh_token"]})
    assert answer.status_code == 204, answer.text

    to_ann.until(lambda s: s.ended, timeout=5)
    assert to_ann.named() == ["session.revoked"]
    assert data(to_ann.events[0]) == {}


def test_a_stream_over_the_cap_answers_429_too_many_streams(stack, opened):
    ann = stack.sign_up("Ann")
    watch(stack, opened, *[ann] * MAX_STREAMS)
    over = stack.open(ann)
    opened.append(over)
    assert over.status == 429
    error = over.response.json()["error"]
    assert error["code"] == "too_many_streams"


def test_heartbeats_arrive_every_events_heartbeat_seconds(stack, opened):
    ann = stack.sign_up("Ann")
    (to_ann,) = watch(stack, opened, ann)
    started = time.monotonic()
    to_ann.until(lambda s: s.comments.count("keep-alive") >= 3, timeout=3 * HEARTBEAT_SECONDS + 3)
    assert time.monotonic() - started < 3 * HEARTBEAT_SECONDS + 2
    assert to_ann.events == []


# --- a streaming process killed and started again --------------------------------------------------------------

def test_a_client_that_resumes_loses_nothing_when_its_streaming_process_is_killed(stack, opened):
    ann, bob = stack.sign_up("Ann"), stack.sign_up("Bob")
    conversation_id = stack.conversation(bob, ann)
    process = StreamingProcess(stack.env, stack.logs / "killed-streams.log").start()
    try:
        to_ann = stack.open(ann, base=process.url)
        opened.append(to_ann)
        assert to_ann.status == 200
        to_ann.until(lambda s: "open" in s.comments)
        before = stack.say(bob, conversation_id, "before")["message"]["id"]
        (seen,) = to_ann.wait_events(1)

        process.kill()
        to_ann.until(lambda s: s.ended, timeout=5)
        missed = [stack.say(bob, conversation_id, f"while down {n}")["message"]["id"] for n in range(3)]
        process.start()

        resumed = stack.open(ann, base=process.url, headers={"Last-Event-ID": seen["id"]})
        opened.append(resumed)
        assert resumed.status == 200, resumed.response.text
        later = stack.say(bob, conversation_id, "after")["message"]["id"]
        resumed.wait_events(4)
        resumed.settle()
        assert data(seen)["message"]["id"] == before
        assert [data(event)["message"]["id"] for event in resumed.events] == [*missed, later]
    finally:
        process.stop()


def test_the_streaming_process_is_ready_once_it_reads_the_fan_out(stack):
    answer = requests.get(f"{stack.streams.url}/readyz", timeout=5)
    assert answer.status_code == 200, answer.text
    assert answer.json()["checks"] == {"database": "ok", "redis": "ok", "events": "ok"}
    # The API's own processes do not serve streams with a Redis server: they point to the streaming processes.
    refused = requests.get(f"{stack.api}/api/v1/events", timeout=5)
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "service_unavailable"


# --- the streaming process's settings --------------------------------------------------------------------------

def streams_command(*options: str) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--config", "gunicorn.streams.conf.py", *options, "app.events.wsgi:app"]


def test_the_streaming_process_runs_gevent_without_preloading(redis_url, tmp_path):
    env = {**os.environ, "REDIS_URL": redis_url[0], "STREAMS_BIND": "127.0.0.1:0",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    result = subprocess.run(streams_command("--print-config"), cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    settings = dict(re.findall(r"^(\w+)\s+= (.*)$", result.stdout, re.M))
    assert (settings["worker_class"], settings["preload_app"], settings["workers"]) == ("gevent", "False", "1")
    assert int(settings["worker_connections"]) >= 10_000
    # Its samples apart from the API's, whose master empties the directory it is given.
    assert (tmp_path / "metrics" / "streams").is_dir()


def test_the_streaming_process_refuses_to_start_without_redis_in_one_line(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'agora.db'}"}
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "-c", "import app.events.wsgi"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("Agora configuration error: the streaming processes (app.events.wsgi) need "
                                    "REDIS_URL")
