"""Tickets, and one open stream: its place among its user's streams, then its events in the EventSource format.

A ticket stands, once, for the access token that asked for it: browsers' EventSource cannot send a token,
and tokens never go in URLs. A stream sends what its client missed (or ``resync``), then live events;
docs/events.md describes the protocol.
"""

import hashlib
import secrets
import time
from collections.abc import Iterator

import orjson
from flask import Flask, current_app
from redis.exceptions import RedisError

from app.core import metrics
from app.core.errors import ServiceUnavailable, TooManyStreams
from app.events import models as events
from app.events.hub import PLACE_HEARTBEATS, WAKE, hub_of
from app.extensions import redis_store

# What a stream needs of the token behind a ticket: whose it is, to check its revocation, and when it expires.
KEPT_CLAIMS = ("sub", "jti", "sid", "gen", "exp", "type")


def issue_ticket(claims: dict) -> dict:
    ticket = secrets.token_urlsafe(32)
    lifetime = current_app.config["EVENTS_TICKET_SECONDS"]
    kept = {name: claims[name] for name in KEPT_CLAIMS if name in claims}
    redis_store.client.set(events.ticket_key(_digest(ticket)), orjson.dumps(kept), ex=lifetime)
    return {"ticket": ticket, "expires_in": lifetime}


def redeem_ticket(ticket: str) -> dict | None:
    """The claims a ticket stands for, once: None if it is unknown, used or expired."""
    if not ticket or len(ticket) > 128 or not ticket.isascii():
        return None
    kept = redis_store.client.getdel(events.ticket_key(_digest(ticket)))
    return orjson.loads(kept) if kept else None


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


# Take a place among the user's open streams if fewer than the cap are open. KEYS: the user's set;
# ARGV: now, the cap, this stream's id, when its place lapses, the set's lifetime in seconds.
TAKE_PLACE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


def frame(name: str, data: str, entry_id: str | None = None) -> bytes:
    head = f"id: {entry_id}\n" if entry_id is not None else ""
    return f"{head}event: {name}\ndata: {data}\n\n".encode()


KEEP_ALIVE = b": keep-alive\n\n"
# Sent first: it makes proxies and browsers see the stream open at once, and asks EventSource to retry after 2 s.
OPENING = b"retry: 2000\n: open\n\n"


def open_stream(claims: dict, last_event_id: str | None) -> "OpenStream":
    """The stream of the user ``claims`` names, or the refusal of SPEC 12 (429, 503) before it starts."""
    app: Flask = current_app.app_context().app  # the app itself, not the proxy: the stream outlives the request
    user_id = int(claims["sub"])
    heartbeat = app.config["EVENTS_HEARTBEAT_SECONDS"]
    place = secrets.token_hex(8)
    places_key = events.open_streams_key(user_id)
    lapse = PLACE_HEARTBEATS * heartbeat
    taken = redis_store.script(TAKE_PLACE)(
        keys=[places_key], args=[time.time(), app.config["EVENTS_MAX_STREAMS_PER_USER"], place, time.time() + lapse,
                                 lapse + 60])
    if not taken:
        raise TooManyStreams(extra={"limit": app.config["EVENTS_MAX_STREAMS_PER_USER"]})
    hub = hub_of(app)
    subscription = hub.subscribe(user_id, claims, places_key, place)
    stream = OpenStream(app, hub, subscription, places_key, place)
    if subscription is None:
        stream.close()
        raise ServiceUnavailable("Live events cannot be read from Redis right now: try again.")
    try:
        if last_event_id is None:  # live events only, and an id for the events that end a stream to carry
            resync_id, backlog, start_id = None, [], events.position(user_id)
        else:
            resync_id, backlog = events.read_after(user_id, last_event_id)
            start_id = last_event_id
    except RedisError:
        stream.close()
        raise

    def generate() -> Iterator[bytes]:
        yield OPENING  # outside the context below: some servers take the first frame on another thread
        with app.app_context():
            sent = start_id  # the id a client resuming from here gives: every event carries one
            if resync_id is not None:
                sent = resync_id
                yield frame(events.RESYNC, "{}", resync_id)
            for entry_id, name, data in backlog:
                sent = entry_id
                yield frame(name, data, entry_id)
            yield from live(sent)

    def live(sent: str) -> Iterator[bytes]:
        """Live events after ``sent`` (an id); the events that end the stream carry it, to resume from."""
        sent_key = events.id_key(sent)
        expires_at = claims["exp"]
        next_beat = time.monotonic() + heartbeat
        while True:
            if time.time() >= expires_at:
                yield frame(events.REAUTH, "{}", sent)
                return
            item = subscription.get(min(next_beat - time.monotonic(), expires_at - time.time()))
            if subscription.revoked:  # found by the hub's beat, or at once after a logout's nudge
                yield frame(events.SESSION_REVOKED, "{}", sent)
                return
            if subscription.behind:
                return  # more than a queue behind: the client resumes from its own stream
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + heartbeat
                yield KEEP_ALIVE
            if item is None or item is WAKE:
                continue
            entry_id, name, data, appended_at = item
            key = events.id_key(entry_id)
            if sent_key is not None and key is not None and key <= sent_key:
                continue  # sent from the backlog already, or from before this stream's start
            sent, sent_key = entry_id, key
            yield frame(name, data, entry_id)
            metrics.EVENTS_DELIVERED.labels(name).inc()
            metrics.EVENTS_DELIVERY_LAG.observe(max(0.0, time.time() - appended_at))

    stream.frames = generate()
    return stream


class OpenStream:
    """The response body of one stream. The server closes it when the stream ends or its client is gone,
    also before the first frame: its place and subscription are given back then, once."""

    def __init__(self, app: Flask, hub, subscription, places_key: str, place: str):
        self.app, self.hub, self.subscription = app, hub, subscription
        self.places_key, self.place = places_key, place
        self.frames: Iterator[bytes] | None = None
        self.closed = False
        metrics.EVENTS_STREAMS_OPEN.inc()

    def __iter__(self) -> Iterator[bytes]:
        return self.frames

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.frames is not None:
            self.frames.close()
        metrics.EVENTS_STREAMS_OPEN.dec()
        if self.subscription is not None:
            self.hub.unsubscribe(self.subscription)
        try:
            with self.app.app_context():
                redis_store.client.zrem(self.places_key, self.place)
        except RedisError:
            pass  # the place lapses by itself
