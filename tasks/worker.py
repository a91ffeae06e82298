"""The Celery worker's (and beat's) entry: ``celery -A tasks.worker worker`` / ``beat``.

Celery looks for an attribute named ``app`` before ``celery``: the Flask app must not take that name.
"""

import functools
import sys

from dotenv import load_dotenv
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

from app import create_app
from app.config import ConfigError

# sysexits.h EX_CONFIG: `make worker` (and a systemd unit's RestartPreventExitStatus) never restarts on it.
EXIT_CONFIG = 78


def create_app_or_stop():
    """The app; a configuration error is one line on stderr and EX_CONFIG: restarting could not mend it."""
    try:
        return create_app()
    except ConfigError as error:
        print(f"Agora configuration error: {error}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def refuse_without_broker(config) -> None:
    """Exit with one line on stderr when no broker is configured, before Celery falls back to amqp://localhost."""
    if not config["CELERY_BROKER_URL"]:
        print("agora worker: no broker configured: set CELERY_BROKER_URL or REDIS_URL "
              "(e.g. redis://127.0.0.1:6379/0)", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG)


def closed_redis_channels_raise_connection_errors() -> None:
    """Make a Redis channel whose connection is gone fail with a connection error, not an AttributeError.

    When Redis drops while a late-acked task runs, the consumer's reconnect first collects the old
    connection (its transport forgets the connection, ``transport.client = None``) and then closes it;
    the old channel, half-closed by the collect, tries again to restore its unacked message, builds a
    new Redis pool from ``transport.client.hostname`` and raises AttributeError, which neither kombu's
    ``ignore_errors`` nor Celery's reconnect treat as a connection error: "Unrecoverable error",
    the worker exits (celery/kombu#970 and #582 are the same failure on other paths). As a
    connection error it is ignored, the task's late ack is logged as failed, and the worker reconnects.
    """
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


load_dotenv()
flask_app = create_app_or_stop()
refuse_without_broker(flask_app.config)
closed_redis_channels_raise_connection_errors()
celery = flask_app.extensions["celery"]  # its tasks come from tasks.registry
