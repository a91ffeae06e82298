"""A worker bootstep that writes the worker's heartbeat every WORKER_HEARTBEAT_SECONDS (read by /readyz).

It runs on the worker's own timer, in its main process: a worker whose event loop is stuck stops
beating, and /readyz says ``stale``.
"""

import logging

from celery import bootsteps

from app.ops.models import record_heartbeat

log = logging.getLogger(__name__)


class Heartbeat(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker):
        flask_app = worker.app.flask_app
        interval = flask_app.config["WORKER_HEARTBEAT_SECONDS"]

        def beat():
            try:
                with flask_app.app_context():
                    record_heartbeat(worker.hostname)
            except Exception as exc:  # Redis away: /readyz will say so; the worker goes on
                log.warning("worker heartbeat failed: %s", type(exc).__name__)

        beat()
        self.tref = worker.timer.call_repeatedly(interval, beat)

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
