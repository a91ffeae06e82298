"""What Celery adds to a task run: the request id that queued it, its metrics, its log format, the worker's /metrics.

docs/operations.md describes each. Every handler is connected once per process (``dispatch_uid``) and
reads the settings of the last app installed: there is one app per worker process.
"""

import logging
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, make_server

from celery import signals
from prometheus_client import generate_latest

from app.core import metrics
from app.core.logs import JsonLogFormatter, RequestIdFilter
from app.core.observability import bind_request_id, current_request_id, unbind_request_id
from tasks import registry

log = logging.getLogger(__name__)

HEADER = "agora_request_id"
OUTCOMES = {"SUCCESS": "success", "RETRY": "retry", "FAILURE": "failure"}
NOT_FOUND = (b'{"error": {"status": 404, "code": "not_found", "message": '
             b'"The requested URL was not found on the server."}}\n')

_settings: dict = {"providers": {}, "log_format": "text", "config": {}}
_runs: dict = {}  # task id -> (request id token, started); one pool process runs one task at a time per thread
_runs_lock = threading.Lock()


def task_providers(config) -> dict[str, str]:
    """The provider each task calls under this configuration (its metric label); tasks calling none are absent."""
    providers = {task.name: task.provider(config) for task in registry.TASKS.values() if task.provider}
    return {name: provider for name, provider in providers.items() if provider}


def connect(app) -> None:
    """Connect the handlers (once per process) and point them at ``app``'s settings."""
    _settings.update(providers=task_providers(app.config), log_format=app.config["LOG_FORMAT"], config=app.config)
    signals.before_task_publish.connect(add_request_id_header, dispatch_uid="agora.request_id_header")
    signals.task_prerun.connect(task_started, dispatch_uid="agora.task_started")
    signals.task_postrun.connect(task_ended, dispatch_uid="agora.task_ended")
    signals.after_setup_logger.connect(format_celery_logs, dispatch_uid="agora.format_logs")
    signals.after_setup_task_logger.connect(format_celery_logs, dispatch_uid="agora.format_task_logs")
    signals.worker_init.connect(serve_worker_metrics, dispatch_uid="agora.worker_metrics")
    signals.worker_process_shutdown.connect(pool_process_ended, dispatch_uid="agora.pool_process_ended")


# --- request ids and task metrics ----------------------------------------------------------------

def add_request_id_header(sender=None, headers=None, **_):
    """The id of the request (or task run) queueing this task travels in the message."""
    request_id = current_request_id()
    if request_id is not None and headers is not None:
        headers[HEADER] = request_id


def queued_request_id(request) -> str | None:
    """The id the message carried: a top-level header for a worker, inside ``headers`` for ``apply()``."""
    value = getattr(request, HEADER, None) or (getattr(request, "headers", None) or {}).get(HEADER)
    return value if isinstance(value, str) else None


def task_started(sender=None, task_id=None, task=None, **_):
    request_id = queued_request_id(task.request) if task is not None else None
    token = bind_request_id(request_id)
    with _runs_lock:
        _runs[task_id] = (token, time.perf_counter())


def task_ended(sender=None, task_id=None, task=None, state=None, **_):
    with _runs_lock:
        run = _runs.pop(task_id, None)
    if run is None:
        return
    token, started = run
    name = getattr(task, "name", None) or "unknown"
    metrics.record_task_run(name, _settings["providers"].get(name, ""), OUTCOMES.get(state, str(state).lower()),
                            time.perf_counter() - started)
    try:
        unbind_request_id(token)
    except (ValueError, RuntimeError):  # set in another context (a pool that runs prerun and postrun apart): just clear it
        bind_request_id(None)


# --- Celery's log lines --------------------------------------------------------------------------

def celery_text_format(celery_format: str) -> str:
    """Celery's layout with the request id after its ``[time: LEVEL/process]`` prefix."""
    prefix, separator, rest = celery_format.partition("] ")
    if not separator:
        return f"[%(request_id)s] {celery_format}"
    return f"{prefix}] [%(request_id)s] {rest}"


def format_celery_logs(sender=None, logger=None, format=None, colorize=None, **_):
    from celery.utils.log import ColorFormatter

    for handler in getattr(logger, "handlers", ()):
        if not any(isinstance(existing, RequestIdFilter) for existing in handler.filters):
            handler.addFilter(RequestIdFilter())
        if _settings["log_format"] == "json":
            handler.setFormatter(JsonLogFormatter())
        elif format:  # keep Celery's class: the task logger's TaskFormatter fills in task_name and task_id
            cls = type(handler.formatter) if isinstance(handler.formatter, ColorFormatter) else ColorFormatter
            handler.setFormatter(cls(celery_text_format(format), use_color=bool(colorize)))


# --- the worker's own /metrics ---------------------------------------------------------------------

class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # scrapes are not worth a line each
        pass


def worker_metrics_app(access: metrics.MetricsAccess, registry_):
    """A WSGI app answering ``GET /metrics`` to allowed callers, the JSON 404 to everyone else."""

    def application(environ, start_response):
        allowed = (environ.get("PATH_INFO") == "/metrics" and environ.get("REQUEST_METHOD") in ("GET", "HEAD")
                   and access.allows(environ.get("REMOTE_ADDR"), environ.get("HTTP_AUTHORIZATION")))
        if not allowed:
            start_response("404 Not Found", [("Content-Type", "application/json"),
                                             ("Content-Length", str(len(NOT_FOUND)))])
            return [NOT_FOUND]
        body = generate_latest(registry_)
        start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    return application


def start_metrics_server(config, registry_=None):
    """Serve ``worker_metrics_app`` on WORKER_METRICS_ADDRESS:WORKER_METRICS_PORT in a daemon thread; the server."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIServer

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True
        allow_reuse_address = True

    access = metrics.MetricsAccess(config["METRICS_ALLOWED_NETWORKS"], config["METRICS_TOKEN"])
    server = make_server(config["WORKER_METRICS_ADDRESS"], config["WORKER_METRICS_PORT"],
                         worker_metrics_app(access, registry_ or metrics.scrape_registry()), Server, QuietHandler)
    threading.Thread(target=server.serve_forever, name="agora-worker-metrics", daemon=True).start()
    return server


def serve_worker_metrics(sender=None, **_):
    """In the worker's main process, before the pool starts: a fresh sample directory, then the server."""
    config = _settings["config"]
    if not config or not config.get("WORKER_METRICS_PORT"):
        return None
    directory = metrics.multiprocess_directory()
    if directory is None:
        log.error("WORKER_METRICS_PORT is set but PROMETHEUS_MULTIPROC_DIR is not: the pool's processes would keep "
                  "their samples to themselves, so the worker serves no metrics (set it, in the worker's "
                  "environment, to a directory of this worker's own)")
        return None
    metrics.clear_multiprocess_directory(directory)
    server = start_metrics_server(config)
    log.info("worker metrics at http://%s:%d/metrics", *server.server_address[:2])
    return server


def pool_process_ended(pid=None, **_):
    """A pool process exits: its live-gauge files go (prometheus_client's bookkeeping; counters stay)."""
    import os

    directory = metrics.multiprocess_directory()
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid(), directory)
