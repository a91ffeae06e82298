"""Liveness and readiness probes."""

from flask import current_app

from app.core.api import Blueprint
from app.core.errors import NotReady
from app.ops import services
from app.ops.schemas import HealthSchema, ReadySchema

blp = Blueprint("ops", __name__, description="Health probes")
# The liveness answer never changes: written once, sent as it is (flask-smorest passes a Response through).
HEALTHY = b'{"status":"ok"}\n'


@blp.route("/healthz")
@blp.response(200, HealthSchema)
def healthz():
    """The process is up"""
    return current_app.response_class(HEALTHY, mimetype="application/json")


@blp.route("/readyz")
@blp.operation(errors=[NotReady.when("`checks` names the part that is missing")])
@blp.response(200, ReadySchema)
def readyz():
    """The database and Redis answer; with a broker, it answers too and a worker was seen recently"""
    return {"status": "ready", "checks": services.readiness()}
