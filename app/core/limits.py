"""Sliding-window limits in Redis, used by failed logins and by phone codes.

Each window is a sorted set of hit timestamps under REDIS_KEY_PREFIX. A hit is reserved in
every window of a request at once, or in none: one Lua script checks all of them and adds
the hit only if each has room, so concurrent requests can never overshoot a limit.
"""

import math
import secrets
import time
from dataclasses import dataclass

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
