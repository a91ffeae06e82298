"""Liveness and readiness probes."""

import logging

from flask import jsonify
from flask_smorest import Blueprint
from sqlalchemy import text

from app.errors import error_response
from app.extensions import db, redis_store

log = logging.getLogger(__name__)

blp = Blueprint("ops", __name__, description="Health probes")


@blp.route("/healthz")
@blp.doc(responses={200: {"description": "The process is up"}})
def healthz():
    """The process is up"""
    return jsonify(status="ok")


@blp.route("/readyz")
@blp.doc(responses={200: {"description": "Ready"}, 503: {"description": "`not_ready`: a dependency is down"}})
def readyz():
    """The database and Redis answer"""
    checks = {"database": _check_database(), "redis": _check_redis()}
    failing = [name for name, state in checks.items() if state != "ok"]
    if failing:
        return error_response(503, "not_ready", f"Unreachable: {', '.join(failing)}.",
                              extra={"checks": checks}, headers={"Retry-After": "5"})
    return jsonify(status="ready", checks=checks)


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
