"""What live events keep in Redis (SPEC 12): their names, their data, their keys; publishing them, reading them back.

``events:user:<id>`` a user's stream (entry id = SSE ``id``; each names the one before, ``prev``, so a trim
shows); ``events:fanout`` every event once with its recipients, and the token nudges (``app.events.hub``);
``events:ticket:<sha256>`` a ticket; ``events:streams:<user id>`` open streams, scored by when they lapse.
"""

import logging
import time
from dataclasses import dataclass

import orjson
from redis.exceptions import RedisError
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from app.core import metrics
from app.extensions import db, redis_store

log = logging.getLogger(__name__)

MESSAGE_CREATED = "message.created"
CONVERSATION_CREATED = "conversation.created"
LIKE_CREATED = "like.created"
LIKE_DELETED = "like.deleted"
PROFILE_UPDATED = "profile.updated"
REFERRAL_CREATED = "referral.created"
# Sent by a stream itself, never stored: to this stream alone, at the moment it applies.
SESSION_REVOKED = "session.revoked"
REAUTH = "reauth"
RESYNC = "resync"
STORED_EVENTS = (MESSAGE_CREATED, CONVERSATION_CREATED, LIKE_CREATED, LIKE_DELETED, PROFILE_UPDATED, REFERRAL_CREATED)
# A fan-out entry of this name carries no event: the named users' streams check their token now.
CHECK_TOKEN = "check-token"

STREAM_DAYS_KEPT = 1
# The fan-out is read as it is written; this only bounds what a streaming process that fell behind can catch up on.
FANOUT_MAXLEN = 100_000


@dataclass(frozen=True)
class Event:
    name: str
    recipients: tuple[int, ...]
    data: dict


def message_created(recipients, conversation_id: int, message: dict) -> Event:
    return Event(MESSAGE_CREATED, tuple(recipients), {"conversation_id": conversation_id, "message": message})


def conversation_created(recipients, conversation: dict) -> Event:
    return Event(CONVERSATION_CREATED, tuple(recipients), {"conversation": conversation})


def like_created(author_id: int, post_id: int, user: dict, like_count: int) -> Event:
    return Event(LIKE_CREATED, (author_id,), {"post_id": post_id, "user": user, "like_count": like_count})


def like_deleted(author_id: int, post_id: int, user_id: int, like_count: int) -> Event:
    return Event(LIKE_DELETED, (author_id,), {"post_id": post_id, "user_id": user_id, "like_count": like_count})


def profile_updated(user_id: int, email_status: str, enrichment_status: str) -> Event:
    return Event(PROFILE_UPDATED, (user_id,), {"email_status": email_status, "enrichment_status": enrichment_status})


def referral_created(owner_id: int, referral: dict, referral_count: int) -> Event:
    return Event(REFERRAL_CREATED, (owner_id,), {"referral": referral, "referral_count": referral_count})


def user_stream_key(user_id: int) -> str:
    return redis_store.key("events", "user", user_id)


def fanout_key() -> str:
    return redis_store.key("events", "fanout")


def ticket_key(digest: str) -> str:
    return redis_store.key("events", "ticket", digest)


def open_streams_key(user_id: int) -> str:
    return redis_store.key("events", "streams", user_id)


PENDING = "agora_events"  # the session's info key of the events its transaction will publish


def publish_after_commit(*events: Event) -> None:
    """Publish ``events`` once the session's transaction commits; a rollback drops them.

    Call it before ``db.session.commit()``: events are never sent for a write that did not happen.
    """
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any statement still drops them
    session.info.setdefault(PENDING, []).extend(event for event in events if event.recipients)



@orm_event.listens_for(Session, "after_commit")
def _publish_pending(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if pending:
        publish(pending)


# Every rollback, also of a session that had not reached the database yet (after_rollback would miss it).
@orm_event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    session.info.pop(PENDING, None)


# One event to all its recipients: each user's stream gets an entry naming the one before it, then the
# fan-out gets the event once with "<user>:<entry id>" for every recipient. KEYS: the fan-out, then the
# users' streams; ARGV: retention, seconds kept, fan-out cap, name, data, then the users' ids.
APPEND = """
local targets = {}
for i = 2, #KEYS do
  local last = redis.call('XREVRANGE', KEYS[i], '+', '-', 'COUNT', 1)
  local prev = ''
  if #last > 0 then prev = last[1][1] end
  local id = redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[1], '*', 'event', ARGV[4], 'data', ARGV[5], 'prev', prev)
  redis.call('EXPIRE', KEYS[i], ARGV[2])
  targets[#targets + 1] = ARGV[i + 4] .. ':' .. id
end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'event', ARGV[4], 'data', ARGV[5], 'to', table.concat(targets, ','))
return #targets
"""


def publish(events: list[Event]) -> bool:
    """Append ``events`` for their recipients, in one round trip; a failure is logged and counted, never raised."""
    from flask import current_app

    client = redis_store.client
    retention = current_app.config["EVENTS_RETENTION"]
    kept = STREAM_DAYS_KEPT * 86400
    script = redis_store.script(APPEND)
    pipe = client.pipeline(transaction=False)
    for event in events:
        recipients = sorted(set(event.recipients))
        script(keys=[fanout_key(), *(user_stream_key(user_id) for user_id in recipients)],
               args=[retention, kept, FANOUT_MAXLEN, event.name, orjson.dumps(event.data), *recipients], client=pipe)
    try:
        pipe.execute()
    except RedisError as error:
        metrics.EVENTS_PUBLISH_FAILED.inc(len(events))
        log.error("live events not published (%s): %s", ", ".join(event.name for event in events), error)
        return False
    for event in events:
        metrics.EVENTS_PUBLISHED.labels(event.name).inc()
    return True


def nudge_token_check(user_id: int) -> None:
    """Make ``user_id``'s open streams check their token now (it may have just been revoked); never raises."""
    try:
        redis_store.client.xadd(fanout_key(), {"event": CHECK_TOKEN, "data": "{}", "to": f"{user_id}:"},
                                maxlen=FANOUT_MAXLEN, approximate=True)
    except RedisError as error:  # the streams still find out at their next heartbeat
        log.warning("streams of a revoked session not told at once: %s", error)


def entry_time(entry_id: str) -> float:
    """When an entry was appended (seconds since the epoch), from its id."""
    return int(entry_id.split("-", 1)[0]) / 1000


def id_key(entry_id: str) -> tuple[int, int] | None:
    """An entry id as comparable numbers; None for anything that is not one."""
    ms, _, seq = entry_id.partition("-")
    if not (ms.isascii() and ms.isdigit() and seq.isascii() and seq.isdigit()) or len(entry_id) > 41:
        return None
    return int(ms), int(seq)


def position(user_id: int) -> str:
    """Where the user's stream ends now: its newest id, or (nothing kept) an id of this moment."""
    newest = redis_store.client.xrevrange(user_stream_key(user_id), count=1)
    return newest[0][0] if newest else f"{time.time_ns() // 1_000_000}-0"


def read_after(user_id: int, last_id: str) -> tuple[str | None, list[tuple[str, str, str]]]:
    """The user's kept events after ``last_id``, oldest first, as ``(id, name, data)``, and ``None``; or, when some
    between were lost (trimmed, expired, or ``last_id`` is no id of this stream), no events and the id a
    ``resync`` carries: the newest kept, so that after reloading by REST the client resumes from there."""
    key = id_key(last_id)
    client = redis_store.client
    newest = client.xrevrange(user_stream_key(user_id), count=1)
    if not newest:
        # Nothing kept: a stream expires a day after its last event, so an id from within the last day
        # (a resync's, below) has missed nothing; an older or malformed one may have.
        fresh = key is not None and key[0] / 1000 > time.time() - STREAM_DAYS_KEPT * 86400
        return (None if fresh else f"{time.time_ns() // 1_000_000}-0"), []
    newest_id = newest[0][0]
    if key is None or key > id_key(newest_id):
        return newest_id, []
    entries = client.xrange(user_stream_key(user_id), min=f"({last_id}")
    if entries:
        prev = entries[0][1].get("prev", "")
        if prev != last_id and (not prev or id_key(prev) > key):
            return newest_id, []
    return None, [(entry_id, fields["event"], fields["data"]) for entry_id, fields in entries]
