"""The development backends' outboxes: the last messages sent to one recipient, kept in a Redis list, newest first.

A domain names the list's key (its models.py); here is how a message is kept and read back.
"""

import json
from datetime import datetime

from app.core.database import utcnow
from app.extensions import redis_store

# A day: long enough for a test, a bot run or a person at the pages; nobody's mail is kept for good.
OUTBOX_SECONDS = 86_400


def keep(key: str, message: dict, size: int) -> None:
    """Keep ``message`` (stamped ``created_at``) first in the list at ``key``, which holds at most ``size``."""
    pipe = redis_store.client.pipeline()
    pipe.lpush(key, json.dumps({**message, "created_at": utcnow().isoformat()}))
    pipe.ltrim(key, 0, size - 1)
    pipe.expire(key, OUTBOX_SECONDS)
    pipe.execute()


def read(key: str) -> list[dict]:
    """The messages kept at ``key``, newest first."""
    messages = map(json.loads, redis_store.client.lrange(key, 0, -1))
    return [{**message, "created_at": datetime.fromisoformat(message["created_at"])} for message in messages]
