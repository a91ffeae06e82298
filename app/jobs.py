"""Background work: Celery bound to the Flask app, the in-process runner, and queueing by task name.

With a broker (CELERY_BROKER_URL, or REDIS_URL) tasks go to Celery workers. Without one
(the embedded default) they run on a small thread pool inside the web process, off the
request thread; a retry is scheduled on a timer, so backoff is real there too. Both run
the same attempt functions from the services.
"""

import atexit
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from celery import Celery, Task
from flask import Flask, current_app

log = logging.getLogger(__name__)

VERIFY_EMAIL = "tasks.verify_email"
ENRICH_USER = "tasks.enrich_user"
SEND_SMS_CODE = "tasks.send_sms_code"
# The queue each task runs on (celeryconfig.task_routes says the same to Celery).
QUEUES = {VERIFY_EMAIL: "integrations", ENRICH_USER: "integrations", SEND_SMS_CODE: "sms"}


def attempt_functions() -> dict:
    """Task name -> the service function one run of it calls (imported late: services queue tasks too)."""
    from app.profile_checks.services import enrich_user_attempt, verify_email_attempt
    from app.sms.services import deliver_code_attempt

    return {VERIFY_EMAIL: verify_email_attempt, ENRICH_USER: enrich_user_attempt, SEND_SMS_CODE: deliver_code_attempt}


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app whose tasks run inside a Flask application context (Flask's pattern)."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object("celeryconfig")
    broker = app.config["CELERY_BROKER_URL"]
    if broker:
        celery_app.conf.broker_url = broker
        if broker.startswith(("redis://", "rediss://")):
            celery_app.conf.broker_transport_options = {
                "visibility_timeout": app.config["CELERY_VISIBILITY_TIMEOUT"],
                # Queues live under the deployment's prefix, so test runs and tenants never share one.
                "global_keyprefix": app.config["REDIS_KEY_PREFIX"],
            }
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    app.extensions["inline_tasks"] = None if broker else InlineRunner(app, app.config["INLINE_TASK_THREADS"])
    return celery_app


class InlineRunner:
    """Runs tasks on thread pools of the web process, retrying on timers: the broker-less default.

    One pool per queue, as with Celery: a slow provider never holds up SMS delivery.
    """

    def __init__(self, app: Flask, threads: int):
        self.app = app
        self.pools = {queue: ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"agora-{queue}")
                      for queue in sorted(set(QUEUES.values()))}
        self.timers: set[threading.Timer] = set()
        self.lock = threading.Lock()
        atexit.register(self.shutdown)

    def submit(self, name: str, args: tuple, attempt: int = 1) -> None:
        self.pools[QUEUES[name]].submit(self._run, name, args, attempt)

    def _run(self, name: str, args: tuple, attempt: int) -> None:
        with self.app.app_context():
            try:
                outcome = attempt_functions()[name](*args, attempt=attempt)
            except Exception:
                log.exception("inline task failed task=%s attempt=%d", name, attempt)
                return
        if outcome is not None and not outcome.final:
            self._later(outcome.retry_in, name, args, attempt + 1)

    def _later(self, delay: float, name: str, args: tuple, attempt: int) -> None:
        def fire():
            with self.lock:
                self.timers.discard(timer)
            self.submit(name, args, attempt)

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        with self.lock:
            self.timers.add(timer)
        timer.start()

    def shutdown(self, wait: bool = False) -> None:
        """Cancel scheduled retries and queued runs; with ``wait``, let the running ones finish."""
        with self.lock:
            for timer in self.timers:
                timer.cancel()
            self.timers.clear()
        for pool in self.pools.values():
            pool.shutdown(wait=wait, cancel_futures=True)


def enqueue(name: str, *args) -> bool:
    """Hand a task to the broker, or to the inline runner; False if the broker could not take it."""
    app = current_app._get_current_object()
    runner = app.extensions["inline_tasks"]
    if runner is not None:
        runner.submit(name, args)
        return True
    try:
        app.extensions["celery"].send_task(name, args=list(args))
        return True
    except Exception as exc:  # broker down: the user stays pending and `flask enrichment resume` retries
        log.warning("could not queue task=%s args=%s: %s", name, args, type(exc).__name__)
        return False
