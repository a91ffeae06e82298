"""``GET /metrics``: Prometheus' text format, for the configured networks or the bearer token only.

A plain Flask blueprint, not part of the OpenAPI document. Anyone else gets the same JSON 404 as
an address that does not exist, whatever the method, so the route's existence is not revealed.
"""

from flask import Blueprint, Flask, abort, current_app, request
from prometheus_client import generate_latest

from app.core.metrics import MetricsAccess, QueueDepthCollector, scrape_registry

# Every method: a 405 (or an automatic OPTIONS answer) would tell a stranger that something is here.
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

blp = Blueprint("metrics", __name__)


@blp.route("/metrics", methods=METHODS, provide_automatic_options=False)
def metrics():
    state = current_app.extensions["agora.metrics"]
    if request.method not in ("GET", "HEAD") or not state["access"].allows(
            request.remote_addr, request.headers.get("Authorization")):
        abort(404)
    return current_app.response_class(generate_latest(state["registry"]), mimetype=None, content_type=CONTENT_TYPE)


def register_metrics(app: Flask) -> None:
    """The /metrics route, its access rule and its registry (with the queue depths when Celery's broker is Redis).

    The queue names are the task registry's, handed over by ``tasks.install`` as
    ``app.extensions["task_queues"]``: ``app`` never imports ``tasks``.
    """
    collectors = []
    queues = app.extensions.get("task_queues")
    broker = app.config.get("CELERY_BROKER_URL") or ""
    if queues and broker.startswith(("redis://", "rediss://", "unix://")):
        collectors.append(QueueDepthCollector(lambda: broker_client(app), app.config["REDIS_KEY_PREFIX"], queues))
    app.extensions["agora.metrics"] = {
        "access": MetricsAccess(app.config["METRICS_ALLOWED_NETWORKS"], app.config["METRICS_TOKEN"]),
        "registry": scrape_registry(*collectors),
    }
    app.register_blueprint(blp)


def broker_client(app: Flask):
    """The broker's Redis: the app's own client when they are the same server, else one with short timeouts."""
    import redis

    broker = app.config["CELERY_BROKER_URL"]
    if broker == app.config["REDIS_URL"]:
        return app.extensions["redis"]
    return redis.Redis.from_url(broker, socket_connect_timeout=2, socket_timeout=2)
