"""Readiness: each part the service needs, and whether it answers.

Always the database and Redis; with a broker, the broker and a worker's recent heartbeat (or queued work
would wait for nobody); a streaming process, which queues no work, whether it reads the fan-out (``events``).
"""

import logging
import time

from flask import current_app
from kombu import Connection
from sqlalchemy import text

from app.core.errors import NotReady
from app.extensions import db, redis_store
from app.ops import models

log = logging.getLogger(__name__)
BROKER_TIMEOUT_SECONDS = 2


def readiness() -> dict:
    """``{"database": "ok", "redis": "ok", ...}``; 503 ``not_ready`` naming the parts that do not answer."""
    checks = {"database": _check_database(), "redis": _check_redis()}
    config = current_app.config
    broker = config["CELERY_BROKER_URL"]
    if config["EVENTS_SERVED_HERE"] and config["REDIS_URL"]:
        checks["events"] = _check_events()
    elif broker:
        checks["broker"] = _check_broker(broker)
        checks["worker"] = _check_worker(checks["redis"])
    failing = [f"{name} ({state})" for name, state in checks.items() if state != "ok"]
    if failing:
        raise NotReady(f"Not ready: {', '.join(failing)}.", extra={"checks": checks}, headers={"Retry-After": "5"})
    return checks


def _check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any failure means not ready; the log says why
        log.warning("readiness: database failed: %s", exc)
        db.session.rollback()
        return "unreachable"


def _check_redis() -> str:
    try:
        redis_store.client.ping()
        return "ok"
    except Exception as exc:
        log.warning("readiness: redis failed: %s", exc)
        return "unreachable"


def _check_broker(url: str) -> str:
    """A fresh connection to the broker (Redis or AMQP), given one try (max_retries=0: no retry, no sleep)."""
    try:
        with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as connection:
            connection.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)
        return "ok"
    except Exception as exc:
        log.warning("readiness: broker failed: %s", type(exc).__name__)  # the URL may carry a password
        return "unreachable"


def _check_worker(redis_state: str) -> str:
    """``ok``, ``missing`` (no heartbeat for a day), ``stale`` (too old), or ``unknown`` when Redis is down."""
    if redis_state != "ok":
        return "unknown"
    try:
        newest = models.newest_heartbeat()
    except Exception as exc:
        log.warning("readiness: reading worker heartbeats failed: %s", exc)
        return "unknown"
    if newest is None:
        return "missing"
    return "ok" if time.time() - newest <= current_app.config["WORKER_HEARTBEAT_MAX_AGE_SECONDS"] else "stale"


def _check_events() -> str:
    """``ok`` while this process's hub reads the fan-out, else ``not_reading`` (it retries by itself).

    Starts the hub if this process has none running yet, as its first stream would: a probe never waits
    for a stream to find out.
    """
    from app.events.hub import hub_of

    hub = hub_of(current_app.app_context().app)  # the app itself: the hub outlives this request
    hub.start()
    return "ok" if hub.reading else "not_reading"
