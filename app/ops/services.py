"""Readiness: each part the service needs, and whether it answers."""

import logging

from sqlalchemy import text

from app.core.errors import NotReady
from app.extensions import db, redis_store

log = logging.getLogger(__name__)


def readiness() -> dict:
    """``{"database": "ok", "redis": "ok"}``; 503 ``not_ready`` naming the parts that do not answer."""
    checks = {"database": _check_database(), "redis": _check_redis()}
    failing = [name for name, state in checks.items() if state != "ok"]
    if failing:
        raise NotReady(f"Unreachable: {', '.join(failing)}.", extra={"checks": checks}, headers={"Retry-After": "5"})
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
