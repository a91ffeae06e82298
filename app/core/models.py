"""What the shared plumbing keeps in Redis, under REDIS_KEY_PREFIX.

``writes:<kind>:<who>``: the sliding window of one kind of write (``app.core.limits.WRITE_LIMITS``) by one
user, or by one client address for signups.
"""

from app.extensions import redis_store


def write_window_key(kind: str, who: int | str) -> str:
    return redis_store.key("writes", kind, who)
