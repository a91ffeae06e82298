"""The broker-less default: the registry's tasks on thread pools of the web process, retries on timers.

One pool per queue, as with Celery workers: a slow provider never holds up SMS delivery. Work still
queued at exit is lost (that is what a broker is for); ``flask profile-checks resume`` queues it again.
"""

import atexit
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from app.core.metrics import record_task_run
from app.core.observability import bind_request_id, current_request_id, unbind_request_id
from tasks import registry
from tasks.base import BackgroundTask, run_once

log = logging.getLogger(__name__)


class InlineRunner:
    def __init__(self, app: Flask, threads: int, providers: dict[str, str] | None = None):
        self.app = app
        self.providers = providers or {}
        self.pools = {queue: ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"agora-{queue}")
                      for queue in registry.QUEUES}
        self.timers: set[threading.Timer] = set()
        self.lock = threading.Lock()
        self.closed = False
        atexit.register(self.shutdown)

    def enqueue(self, function, args: tuple) -> bool:
        return self.submit(registry.task_of(function), args)

    def submit(self, task: BackgroundTask, args: tuple, attempt: int = 1, request_id: str | None = None) -> bool:
        """Queue one attempt; False once the runner has shut down (a retry whose timer fired just then).

        The run gets ``request_id``, or the id of the request submitting it.
        """
        request_id = request_id or current_request_id()
        with self.lock:
            if self.closed:
                log.warning("inline runner shut down: dropped task=%s attempt=%d", task.name, attempt)
                return False
            self.pools[task.queue].submit(self._run, task, args, attempt, request_id)
        return True

    def _run(self, task: BackgroundTask, args: tuple, attempt: int, request_id: str | None = None) -> None:
        token = bind_request_id(request_id)
        started = time.perf_counter()
        outcome = "failure"
        try:
            with self.app.app_context():
                try:
                    delay = run_once(task, args, attempt)
                except Exception:
                    log.exception("inline task failed task=%s attempt=%d", task.name, attempt)
                    return
            outcome = "success" if delay is None else "retry"
            if delay is not None:
                self._later(delay, task, args, attempt + 1, request_id)
        finally:
            record_task_run(task.name, self.providers.get(task.name, ""), outcome, time.perf_counter() - started)
            unbind_request_id(token)

    def _later(self, delay: float, task: BackgroundTask, args: tuple, attempt: int,
               request_id: str | None = None) -> None:
        def fire():
            with self.lock:
                self.timers.discard(timer)
            self.submit(task, args, attempt, request_id)

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        with self.lock:
            self.timers.add(timer)
        timer.start()

    def shutdown(self, wait: bool = False) -> None:
        """Cancel scheduled retries and queued runs; with ``wait``, let the running ones finish."""
        with self.lock:
            self.closed = True
            for timer in self.timers:
                timer.cancel()
            self.timers.clear()
        for pool in self.pools.values():
            pool.shutdown(wait=wait, cancel_futures=True)
