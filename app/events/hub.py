"""One per process that serves streams: reads the fan-out once and hands each entry to this process's streams.

The reader blocks on the fan-out on a Redis connection of its own, so waiting streams never starve it, and
resumes from its last entry after an error. The beat checks every local stream's token in pipelined batches;
one that cannot reach Redis leaves the streams open (docs/operations-live.md).
"""

import logging
import queue
import threading
import time

from redis.exceptions import RedisError

from app.auth.models import revocation_keys, revoked_by
from app.events import models as events

logger = logging.getLogger(__name__)

BLOCK_MS = 1000
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0)
# A stream this far behind is ended: its client resumes from its own stream with Last-Event-ID.
QUEUE_SIZE = 1000
# Put on a stream's queue to wake it: the beat found its token revoked (``revoked``), or it fell behind.
WAKE = object()
# Streams checked per pipelined round trip of a beat.
BEAT_BATCH = 500
# A place lapses after this many heartbeats without renewal: a process killed mid-stream frees its places.
PLACE_HEARTBEATS = 3


class Subscription:
    """One stream's link to the hub: its queue of events, and what its beat checks and renews."""

    def __init__(self, user_id: int, claims: dict, places_key: str, place: str):
        self.user_id, self.claims, self.places_key, self.place = user_id, claims, places_key, place
        self.behind = False  # its queue overflowed: the stream ends, and its client resumes
        self.revoked = False  # its token was revoked: the stream says session.revoked and ends
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
        self._beater: threading.Thread | None = None
        self._nudged: set[int] = set()  # users whose streams the beat checks now, not at its next round
        self._nudge = threading.Event()

    def subscribe(self, user_id: int, claims: dict, places_key: str, place: str,
                  timeout: float = 5.0) -> Subscription | None:
        """A new subscription for ``user_id``; None when the fan-out could not be read within ``timeout``.

        Only once the reader knows where the fan-out ends: every event appended after that reaches
        the subscription, or was appended before it and is in the user's stream for the stream to read.
        """
        self.start()
        if not self._positioned.wait(timeout):
            return None
        subscription = Subscription(user_id, claims, places_key, place)
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
            subscription.put(WAKE)
        return len(local)

    def start(self) -> None:
        """Start the reader once per process (after a fork: gunicorn's master never serves a stream)."""
        with self._lock:
            if self._reader is None or not self._reader.is_alive():
                self._stopping.clear()
                self._reader = threading.Thread(target=self._read, name="agora-events-hub", daemon=True)
                self._reader.start()
            if self._beater is None or not self._beater.is_alive():
                self._beater = threading.Thread(target=self._beat, name="agora-events-beat", daemon=True)
                self._beater.start()

    def stop(self) -> None:
        self._stopping.set()
        self._nudge.set()
        for thread in (self._reader, self._beater):
            if thread is not None:
                thread.join(timeout=BLOCK_MS / 1000 + 5)

    def _read(self) -> None:
        with self.app.app_context():
            client, key = None, events.fanout_key()
            last_id, failures = None, 0
            while not self._stopping.is_set():
                try:
                    if client is None:  # connects at once: inside the retries, like every read
                        client = events.redis_store.dedicated(read_timeout=BLOCK_MS / 1000 + 5)
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
            if name == events.CHECK_TOKEN:
                with self._lock:
                    self._nudged.add(int(user))
                self._nudge.set()
                continue
            with self._lock:
                local = tuple(self._local.get(int(user), ()))
            for subscription in local:
                subscription.put((user_entry_id, name, data, appended_at))

    def _beat(self) -> None:
        """Every heartbeat, check every local stream's token and renew its place; a nudged user's at once."""
        with self.app.app_context():
            heartbeat = self.app.config["EVENTS_HEARTBEAT_SECONDS"]
            next_round = time.monotonic() + heartbeat
            while not self._stopping.is_set():
                self._nudge.wait(max(0.0, next_round - time.monotonic()))
                self._nudge.clear()
                with self._lock:
                    if time.monotonic() >= next_round:
                        due, renew = [sub for subs in self._local.values() for sub in subs], True
                        next_round = time.monotonic() + heartbeat
                    else:
                        due = [sub for user in self._nudged for sub in self._local.get(user, ())]
                        renew = False
                    self._nudged.clear()
                for start in range(0, len(due), BEAT_BATCH):
                    self._check(due[start:start + BEAT_BATCH], renew, heartbeat)

    def _check(self, subscriptions: list[Subscription], renew: bool, heartbeat: float) -> None:
        client = events.redis_store.client
        lapses = time.time() + PLACE_HEARTBEATS * heartbeat
        try:
            pipe = client.pipeline(transaction=False)
            for subscription in subscriptions:
                pipe.mget(revocation_keys(subscription.claims))
                if renew:
                    pipe.zadd(subscription.places_key, {subscription.place: lapses}, xx=True)
            answers = pipe.execute()
        except Exception as error:  # streams stay open: their tokens are checked again at the next beat
            logger.warning("live events: %d streams' tokens not checked this beat: %s", len(subscriptions), error,
                           exc_info=not isinstance(error, RedisError))
            return
        step = 2 if renew else 1
        for subscription, values in zip(subscriptions, answers[::step]):
            if revoked_by(subscription.claims, values):
                subscription.revoked = True
                subscription.put(WAKE)


_hubs_lock = threading.Lock()


def hub_of(app) -> Hub:
    """This process's hub for ``app``, made at its first stream."""
    hub = app.extensions.get("events_hub")
    if hub is None:
        with _hubs_lock:
            hub = app.extensions.setdefault("events_hub", Hub(app))
    return hub
