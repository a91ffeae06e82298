"""One per process that serves streams: reads the fan-out once and hands each entry to this process's streams.

A stream subscribes for its user; the hub's reader (a thread, a greenlet under gevent) blocks on the
fan-out and puts each event, under its recipient's entry id, on the queue of every local stream of that
recipient. After a Redis error it retries from the last entry it read, so live streams miss nothing
the fan-out still holds; ``reading`` says whether it is reading now (``/readyz``).
"""

import logging
import queue
import threading
import time

from redis.exceptions import RedisError

from app.events import models as events

logger = logging.getLogger(__name__)

BLOCK_MS = 1000
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0)
# A stream this far behind is ended: its client resumes from its own stream with Last-Event-ID.
QUEUE_SIZE = 1000
CHECK_TOKEN = object()


class Subscription:
    def __init__(self, user_id: int):
        self.user_id = user_id
        self.behind = False  # its queue overflowed: the stream ends, and its client resumes
        self.queue: queue.Queue = queue.Queue(QUEUE_SIZE)

    def put(self, item) -> None:
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            self.behind = True

    def get(self, timeout: float):
        try:
            return self.queue.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None


class Hub:
    def __init__(self, app):
        self.app = app
        self.reading = False
        self._local: dict[int, set[Subscription]] = {}
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._stopping = threading.Event()
        self._positioned = threading.Event()

    def subscribe(self, user_id: int, timeout: float = 5.0) -> Subscription | None:
        """A new subscription for ``user_id``; None when the fan-out could not be read within ``timeout``.

        Only once the reader knows where the fan-out ends: every event appended after that reaches
        the subscription, or was appended before it and is in the user's stream for the stream to read.
        """
        self.start()
        if not self._positioned.wait(timeout):
            return None
        subscription = Subscription(user_id)
        with self._lock:
            self._local.setdefault(user_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            mine = self._local.get(subscription.user_id)
            if mine is not None:
                mine.discard(subscription)
                if not mine:
                    del self._local[subscription.user_id]

    def disconnect(self, user_id: int) -> int:
        """End the user's streams in this process, as if each fell a queue behind: their clients resume
        with Last-Event-ID. Returns how many were told."""
        with self._lock:
            local = tuple(self._local.get(user_id, ()))
        for subscription in local:
            subscription.behind = True
            subscription.put(None)  # wakes the stream, which then sees it is behind
        return len(local)

    def start(self) -> None:
        """Start the reader once per process (after a fork: gunicorn's master never serves a stream)."""
        with self._lock:
            if self._reader is None or not self._reader.is_alive():
                self._stopping.clear()
                self._reader = threading.Thread(target=self._read, name="agora-events-hub", daemon=True)
                self._reader.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._reader is not None:
            self._reader.join(timeout=BLOCK_MS / 1000 + 5)

    def _read(self) -> None:
        with self.app.app_context():
            client, key = events.redis_store.client, events.fanout_key()
            last_id, failures = None, 0
            while not self._stopping.is_set():
                try:
                    if last_id is None:  # from now on: earlier events reach a client through its own stream
                        newest = client.xrevrange(key, count=1)
                        last_id = newest[0][0] if newest else "0-0"
                        self._positioned.set()
                        self.reading = True
                    answer = client.xread({key: last_id}, block=BLOCK_MS, count=500)
                except Exception as error:  # the reader must outlive anything: Redis away, or a bug
                    self.reading = False
                    delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                    if failures == 0:
                        logger.warning("live events: the fan-out cannot be read (%s); retrying", error,
                                       exc_info=not isinstance(error, RedisError))
                    failures += 1
                    self._stopping.wait(delay)
                    continue
                if failures:
                    logger.info("live events: reading the fan-out again")
                self.reading, failures = True, 0
                for _, entries in answer or ():
                    for entry_id, fields in entries:
                        last_id = entry_id
                        try:
                            self._dispatch(entry_id, fields)
                        except Exception:  # one bad entry is skipped, not every later one
                            logger.exception("live events: fan-out entry %s not dispatched", entry_id)

    def _dispatch(self, entry_id: str, fields: dict) -> None:
        name, data = fields.get("event"), fields.get("data", "{}")
        appended_at = events.entry_time(entry_id)
        for target in fields.get("to", "").split(","):
            user, _, user_entry_id = target.partition(":")
            if not user.isdigit():
                continue
            with self._lock:
                local = tuple(self._local.get(int(user), ()))
            for subscription in local:
                if name == events.CHECK_TOKEN:
                    subscription.put(CHECK_TOKEN)
                else:
                    subscription.put((user_entry_id, name, data, appended_at))


_hubs_lock = threading.Lock()


def hub_of(app) -> Hub:
    """This process's hub for ``app``, made at its first stream."""
    hub = app.extensions.get("events_hub")
    if hub is None:
        with _hubs_lock:
            hub = app.extensions.setdefault("events_hub", Hub(app))
    return hub


def wait_until_reading(app, timeout: float = 5.0) -> bool:
    """Start the hub and wait until it reads the fan-out (tests, and a streaming process at start)."""
    hub = hub_of(app)
    hub.start()
    deadline = time.monotonic() + timeout
    while not hub.reading and time.monotonic() < deadline:
        time.sleep(0.01)
    return hub.reading
