"""The Celery worker's (and beat's) entry: ``celery -A tasks.worker worker`` / ``beat``.

Celery looks for an attribute named ``app`` before ``celery``: the Flask app must not take that name.
"""

import sys

from dotenv import load_dotenv

from app import create_app
from app.config import ConfigError
from app.internals.kombu import closed_redis_channels_raise_connection_errors

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


load_dotenv()
flask_app = create_app_or_stop()
refuse_without_broker(flask_app.config)
closed_redis_channels_raise_connection_errors()
celery = flask_app.extensions["celery"]  # its tasks come from tasks.registry
