"""Sliding-window limits in Redis, used by failed logins, phone codes and the write limits of SPEC 3.

Each window is a sorted set of hit timestamps under REDIS_KEY_PREFIX. A hit is reserved in
every window of a request at once, or in none: one Lua script checks all of them and adds
the hit only if each has room, so concurrent requests can never overshoot a limit.
"""

import math
import secrets
import time
from dataclasses import dataclass

from flask import current_app

from app.core.errors import TooManyRequests
from app.core.models import write_window_key
from app.extensions import redis_store

# KEYS: the windows; ARGV: now (ms), the hit's member, then a (limit, window ms) pair per key.
# Returns the milliseconds to wait when a window is full (nothing is added), else 0.
RESERVE_HIT = """
local now, member = tonumber(ARGV[1]), ARGV[2]
local wait = 0
for i, key in ipairs(KEYS) do
  local limit, window = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, tonumber(ARGV[2 + 2 * i]))
end
return 0
"""


@dataclass(frozen=True)
class Window:
    """At most ``limit`` hits on ``key`` in any ``seconds``."""

    key: str
    limit: int
    seconds: int


@dataclass(frozen=True)
class Hit:
    """A hit reserved in some windows; ``release`` takes it back (a login that succeeded)."""

    keys: tuple[str, ...]
    member: str

    def release(self) -> None:
        if self.keys:
            pipe = redis_store.client.pipeline(transaction=False)
            for key in self.keys:
                pipe.zrem(key, self.member)
            pipe.execute()


def reserve(windows: list[Window]) -> tuple[Hit | None, int]:
    """Record one hit in every window if each has room: ``(hit, 0)``; else ``(None, seconds to wait)``."""
    now_ms = int(time.time() * 1000)
    member = f"{now_ms}-{secrets.token_hex(6)}"
    args = [now_ms, member]
    for window in windows:
        args += [window.limit, window.seconds * 1000]
    wait_ms = int(redis_store.client.register_script(RESERVE_HIT)(keys=[w.key for w in windows], args=args))
    if wait_ms > 0:
        return None, max(1, math.ceil(wait_ms / 1000))
    return Hit(tuple(window.key for window in windows), member), 0


@dataclass(frozen=True)
class WriteLimit:
    """At most the setting ``setting`` of writes of one kind per ``seconds``, for each user (or client address)."""

    setting: str
    seconds: int
    what: str  # in the 429's message: "Too many <what>"

    @property
    def period(self) -> str:
        return {60: "minute", 3600: "hour"}.get(self.seconds, f"{self.seconds} seconds")


# The write limits of SPEC 3, one rule each: writes by one user, and signups from one client address.
WRITE_LIMITS = {
    "posts": WriteLimit("POSTS_PER_MINUTE", 60, "posts"),
    "likes": WriteLimit("LIKES_PER_MINUTE", 60, "likes"),
    "messages": WriteLimit("MESSAGES_PER_MINUTE", 60, "messages"),
    "conversations": WriteLimit("CONVERSATIONS_PER_HOUR", 3600, "new conversations"),
    "signups": WriteLimit("SIGNUPS_PER_IP_PER_HOUR", 3600, "signups from this address"),
}


def limit_write(kind: str, who: int | str) -> None:
    """Count one write of ``kind`` (a key of WRITE_LIMITS) by ``who`` (a user id, or a client address for signups).

    Every attempt that reaches its service counts, whatever it answers (a refused signup or
    conversation too: probing for taken emails or user ids costs the same). Past the limit:
    429 ``too_many_requests`` with ``Retry-After``. Nothing is counted with RATELIMIT_ENABLED off.
    """
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return
    rule = WRITE_LIMITS[kind]
    limit = config[rule.setting]
    _, wait = reserve([Window(write_window_key(kind, who), limit, rule.seconds)])
    if wait:
        raise TooManyRequests(f"Too many {rule.what}: at most {limit} per {rule.period}.",
                              extra={"retry_after": wait}, headers={"Retry-After": str(wait)})
