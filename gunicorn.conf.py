"""gunicorn settings: one process with threads on the embedded default, several workers with a Redis server."""

import atexit
import os
import shutil
import tempfile

from dotenv import load_dotenv

load_dotenv()


def prepare_metrics_directory() -> None:
    """Create or empty PROMETHEUS_MULTIPROC_DIR (or make a private one) once per master, a reload included.

    Run as the master reads this file: prometheus_client picks its mode at its first import, in the preloaded app.
    """
    if os.environ.get("AGORA_METRICS_PREPARED_BY") == str(os.getpid()):
        return
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="agora-metrics-")
        os.environ["AGORA_METRICS_DIR_OWNED"] = str(os.getpid())
        atexit.register(remove_own_metrics_directory)  # also when loading the app fails and the master exits
    os.environ["AGORA_METRICS_PREPARED_BY"] = str(os.getpid())


def remove_own_metrics_directory() -> None:
    """The master removes the sample directory it made (a directory given by the environment stays)."""
    if os.environ.get("AGORA_METRICS_DIR_OWNED") == str(os.getpid()):
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def whole_number(name: str, default: int) -> int:
    """A positive integer from the environment; a bad one stops gunicorn with one line."""
    value = os.environ.get(name) or str(default)
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"Agora configuration error: {name} must be a positive whole number, not {value!r}")
    return int(value)


def control_socket_settings(variable: str) -> dict:
    """gunicorn 27's control socket has one default path per user, shared by every instance on the host:
    off unless ``variable`` gives this instance a path of its own."""
    path = os.environ.get(variable)
    return {"control_socket": path} if path else {"control_socket_disable": True}


bind = os.environ.get("BIND", "127.0.0.1:8000")
# Without REDIS_URL, fakeredis lives in one process: one process of 32 threads (an open stream holds one).
# With Redis, 2 x cores + 1 sync processes, behind a buffering proxy (bench/README.md has the measurements).
SHARED_REDIS = bool(os.environ.get("REDIS_URL"))
CORES = os.cpu_count() or 1
workers = whole_number("WEB_CONCURRENCY", 2 * CORES + 1 if SHARED_REDIS else 1)
threads = whole_number("GUNICORN_THREADS", 1 if SHARED_REDIS else 32)
prepare_metrics_directory()  # after the settings above are known good, before the app is loaded
# Both answer an oversized request line or headers (414, 431) in the API's JSON error shape. With more
# than one thread gunicorn would swap a *SyncWorker class for its own plain gthread worker (losing
# those answers), so more than one thread selects the JSON threaded one.
worker_class = "app.core.serving." + ("JsonErrorThreadWorker" if threads > 1 else "JsonErrorSyncWorker")
timeout = 30
graceful_timeout = 20
# The app writes one access line per request itself (logger agora.access: route, status, duration and the
# request id, in LOG_FORMAT): gunicorn's own would be a second, without them.
accesslog = None
# The master builds the app once: a configuration error stops it with one line and a non-zero
# status, instead of every worker failing the same way in turn.
preload_app = True
globals().update(control_socket_settings("GUNICORN_CONTROL_SOCKET"))


def post_fork(server, worker):
    """Connections opened by the master (none are expected) must not be shared with the workers."""
    from app.extensions import db

    flask_app = server.app.wsgi()
    with flask_app.app_context():
        db.engine.dispose(close=False)


def child_exit(server, worker):
    """A worker is gone: prometheus_client drops its live-gauge files (its counters and histograms stay counted)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    remove_own_metrics_directory()
