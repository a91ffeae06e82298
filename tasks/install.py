"""Wiring background work into the app factory: Celery with a broker, the inline runner without."""

from flask import Flask

from tasks import instrumentation, registry
from tasks.celery_app import CeleryQueue, celery_init_app
from tasks.inline import InlineRunner


def install(app: Flask) -> None:
    """Install the task queue of the mode ``app`` runs in as ``app.extensions["tasks"]``.

    With Celery, the registry's queue names go to ``app.extensions["task_queues"]`` (for the
    queue-depth metric of /metrics: the app reads them there and never imports ``tasks``), and
    the signal handlers that carry request ids and record task metrics are connected.
    """
    if app.config["CELERY_BROKER_URL"]:
        celery_app = celery_init_app(app)
        app.extensions["celery"] = celery_app
        app.extensions["tasks"] = CeleryQueue(celery_app)
        app.extensions["task_queues"] = registry.QUEUES
        instrumentation.connect(app)
    else:
        app.extensions["tasks"] = InlineRunner(app, app.config["INLINE_TASK_THREADS"],
                                               providers=instrumentation.task_providers(app.config))
