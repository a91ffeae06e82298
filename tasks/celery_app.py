"""Celery bound to the Flask app, its tasks made from the registry, and the queue the web side sends to."""

import logging

from celery import Celery, Task
from flask import Flask

from tasks import registry
from tasks.base import BackgroundTask, run_once
from tasks.heartbeat import Heartbeat

log = logging.getLogger(__name__)
# One ZRANGE on the broker's unacked index per sweep: cheap enough to run this often on every worker.
RESTORE_SWEEP_SECONDS = 2


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app whose tasks run inside a Flask application context (Flask's pattern)."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.flask_app = app
    celery_app.steps["worker"].add(Heartbeat)
    celery_app.config_from_object("celeryconfig")
    celery_app.conf.task_queues = registry.queue_declarations()
    celery_app.conf.task_routes = registry.routes()
    celery_app.conf.beat_schedule = registry.beat_schedule()
    broker = app.config["CELERY_BROKER_URL"]
    celery_app.conf.broker_url = broker
    if broker.startswith(("redis://", "rediss://")):
        celery_app.conf.broker_transport_options = {
            "visibility_timeout": app.config["CELERY_VISIBILITY_TIMEOUT"],
            # Queues live under the deployment's prefix, so test runs and tenants never share one.
            "global_keyprefix": app.config["REDIS_KEY_PREFIX"],
            # A running worker looks for messages left unacknowledged by a dead one every
            # RESTORE_SWEEP_SECONDS (kombu's default sweep is about every 100 s: 10 s x a throttle of 10),
            # so such a task runs again within seconds of CELERY_VISIBILITY_TIMEOUT, not minutes.
            "unacked_restore_interval": RESTORE_SWEEP_SECONDS,
            "unacked_restore_throttle": 1,
        }
    for task in registry.TASKS.values():
        # shared=False: a task of this app only (a shared one would be given to every later Celery app too).
        celery_app.task(bind=True, name=task.name, shared=False)(celery_run(task))
    celery_app.set_default()
    return celery_app


def celery_run(task: BackgroundTask):
    """The body of ``task`` as a Celery task: one attempt per run, a retry when the outcome asks for one.

    The rules cap the attempts and end in a terminal status, so Celery's own cap is off.
    """

    def run(self, *args):
        delay = run_once(task, args, attempt=self.request.retries + 1)
        if delay is not None:
            raise self.retry(countdown=delay, max_retries=None)

    run.__name__ = run.__qualname__ = task.name.rpartition(".")[2]
    run.__doc__ = task.function.__doc__
    return run


class CeleryQueue:
    """Sends tasks to the broker by name, to their queue."""

    def __init__(self, celery_app: Celery):
        self.celery = celery_app

    def enqueue(self, function, args: tuple) -> bool:
        task = registry.task_of(function)
        try:
            self.celery.send_task(task.name, args=list(args), queue=task.queue)
            return True
        except Exception as exc:  # broker down: the work stays pending, and is resumed or refused upstream
            # Never the arguments: they carry emails and phone numbers (the log is no place for them).
            log.warning("could not queue task=%s: %s", task.name, type(exc).__name__)
            return False

    def shutdown(self, wait: bool = False) -> None:
        self.celery.close()
