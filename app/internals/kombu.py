"""kombu's Redis transport: a channel whose connection is gone fails with a connection error.

Guards ``kombu.transport.redis.Channel._connparams`` (private): when Redis drops under a late-acked task,
the old channel's restore reads ``transport.client.hostname`` after the reconnect set ``client = None``;
the AttributeError made the worker exit (celery/kombu#582, #970). As a connection error the worker
reconnects (``tests/stack/test_redis_restart.py``). Written against kombu 5.7.
"""

import functools
import inspect

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

LIBRARY = "kombu"
WRITTEN_AGAINST = ">=5.4,<5.8"


def closed_redis_channels_raise_connection_errors() -> None:
    """Install the guard (once per process)."""
    connparams = kombu_redis.Channel._connparams
    if getattr(connparams, "raises_when_closed", False):
        return

    @functools.wraps(connparams)
    def guarded(self, *args, **kwargs):
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("this channel's broker connection is closed")
        return connparams(self, *args, **kwargs)

    guarded.raises_when_closed = True
    kombu_redis.Channel._connparams = guarded


def shape_problems() -> list[str]:
    """What no longer looks as this module expects of kombu."""
    connparams = getattr(kombu_redis.Channel, "_connparams", None)
    if connparams is None:
        return ["kombu.transport.redis.Channel._connparams is gone: the guard wraps nothing"]
    problems = []
    parameters = list(inspect.signature(inspect.unwrap(connparams)).parameters)
    if parameters != ["self", "asynchronous"]:
        problems.append(f"Channel._connparams takes {parameters}, not (self, asynchronous)")
    source = inspect.getsource(inspect.unwrap(connparams))
    if "self.connection.client" not in source:
        problems.append("Channel._connparams no longer reads self.connection.client: the guard checks the wrong thing")
    return problems
