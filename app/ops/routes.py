"""Liveness and readiness probes."""

import logging

from marshmallow import Schema, fields
from sqlalchemy import text

from app.api import Blueprint
from app.errors import NotReady
from app.extensions import db, redis_store
from app.schemas import ErrorSchema

log = logging.getLogger(__name__)

blp = Blueprint("ops", __name__, description="Health probes")


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


class ReadySchema(Schema):
    status = fields.String(required=True, metadata={"example": "ready"})
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                         metadata={"example": {"database": "ok", "redis": "ok"}})


@blp.route("/healthz")
@blp.response(200, HealthSchema)
def healthz():
    """The process is up"""
    return {"status": "ok"}


@blp.route("/readyz")
@blp.response(200, ReadySchema)
@blp.alt_response(503, schema=ErrorSchema, description="`not_ready`: `checks` names the unreachable part")
def readyz():
    """The database and Redis answer"""
    checks = {"database": _check_database(), "redis": _check_redis()}
    failing = [name for name, state in checks.items() if state != "ok"]
    if failing:
        raise NotReady(f"Unreachable: {', '.join(failing)}.", extra={"checks": checks}, headers={"Retry-After": "5"})
    return {"status": "ready", "checks": checks}


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
