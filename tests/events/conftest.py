"""Reading live events in the fast tier: the app's own in-process stream (fakeredis, the hub's thread)."""

import queue
import threading
import time

import orjson
import pytest

from app.events import models as events
from app.extensions import redis_store

EVENTS = "/api/v1/events"


class Stream:
    """An open ``GET /events`` answer read frame by frame; keep-alive comments are counted, not returned.

    One thread reads the whole answer, as a server's would (the stream keeps Flask's context across its
    frames), and hands the frames over through a queue.
    """

    END = object()

    def __init__(self, response):
        self.response = response
        self.frames: queue.Queue = queue.Queue()
        self.keep_alives = 0
        self.hanging_up = threading.Event()
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()

    def _pump(self):
        try:
            for chunk in self.response.response:
                if self.hanging_up.is_set():
                    break
                self.frames.put(chunk)
        finally:
            self.response.close()  # in this thread: a generator is closed where it runs
            self.frames.put(self.END)

    def next_event(self, timeout: float = 5.0) -> dict | None:
        """The next event as ``{id, event, data}``; None if the stream ended. Fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                chunk = self.frames.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no event within {timeout}s") from None
            if chunk is self.END:
                return None
            if chunk.startswith(b": keep-alive"):
                self.keep_alives += 1
            elif not chunk.startswith(b"retry:"):
                return parse(chunk)

    def events(self, count: int, timeout: float = 5.0) -> list[dict]:
        return [self.next_event(timeout) for _ in range(count)]

    def close(self):
        """Hang up at the next frame (a heartbeat at most), as a server notices a client gone."""
        self.hanging_up.set()
        self.reader.join(timeout=5)


def parse(chunk: bytes) -> dict:
    fields = dict(line.split(": ", 1) for line in chunk.decode().strip().split("\n") if not line.startswith(":"))
    return {"id": fields.get("id"), "event": fields["event"], "data": orjson.loads(fields["data"])}


@pytest.fixture
def live_app(make_app):
    """An app serving streams with a 1 s heartbeat; overrides per test."""
    return lambda **overrides: make_app(EVENTS_HEARTBEAT_SECONDS=1, MAIL_BACKEND="outbox", **overrides)


@pytest.fixture
def open_stream():
    """Open ``GET /events`` on a client (with ``headers`` or ``query``); every stream is closed after the test."""
    opened = []

    def open_stream(client, headers=None, query="", last_event_id=None) -> Stream:
        headers = dict(headers or {})
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        response = client.get(f"{EVENTS}{query}", headers=headers, buffered=False)
        assert response.status_code == 200, response.get_json()
        assert response.mimetype == "text/event-stream"
        stream = Stream(response)
        opened.append(stream)
        return stream

    yield open_stream
    for stream in opened:
        stream.close()


def kept_events(app, user_id: int) -> list[tuple[str, str, dict]]:
    """What the user's stream keeps, oldest first: ``(id, name, data)``."""
    with app.app_context():
        entries = redis_store.client.xrange(events.user_stream_key(user_id))
    return [(entry_id, fields["event"], orjson.loads(fields["data"])) for entry_id, fields in entries]
