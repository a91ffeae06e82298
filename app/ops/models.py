"""What ops keeps: the workers' heartbeats, in Redis under REDIS_KEY_PREFIX.

``workers:heartbeats`` is a sorted set: each worker's name, scored by the time (epoch seconds) it
last wrote. Workers write it every WORKER_HEARTBEAT_SECONDS; /readyz reads the newest.
"""

import time

from app.extensions import redis_store

FORGET_AFTER_SECONDS = 86_400  # a worker gone for a day is dropped from the set


def record_heartbeat(worker: str, now: float | None = None) -> None:
    """Note that ``worker`` is alive now."""
    now = time.time() if now is None else now
    key = redis_store.key("workers", "heartbeats")
    pipe = redis_store.client.pipeline(transaction=False)
    pipe.zadd(key, {worker: now})
    pipe.zremrangebyscore(key, "-inf", now - FORGET_AFTER_SECONDS)
    pipe.expire(key, FORGET_AFTER_SECONDS)
    pipe.execute()


def newest_heartbeat() -> float | None:
    """When a worker last wrote, or None if none has for a day."""
    newest = redis_store.client.zrange(redis_store.key("workers", "heartbeats"), 0, 0, desc=True, withscores=True)
    return newest[0][1] if newest else None
