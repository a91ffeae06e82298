"""gunicorn settings: one process with threads on the embedded default, several workers with a Redis server."""

import os

from dotenv import load_dotenv

load_dotenv()


def whole_number(name: str, default: int) -> int:
    """A positive integer from the environment; a bad one stops gunicorn with one line."""
    value = os.environ.get(name) or str(default)
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"Agora configuration error: {name} must be a positive whole number, not {value!r}")
    return int(value)


bind = os.environ.get("BIND", "127.0.0.1:8000")
# fakeredis lives inside one process: without REDIS_URL, every request must reach the same process.
# With Redis, cores + 1 processes of 4 threads: measured on 2 cores (make bench's routes), it served
# 3-10% more than 2 x cores + 1 processes of 8 threads, with fewer database connections.
SHARED_REDIS = bool(os.environ.get("REDIS_URL"))
workers = whole_number("WEB_CONCURRENCY", (os.cpu_count() or 1) + 1 if SHARED_REDIS else 1)
threads = whole_number("GUNICORN_THREADS", 4 if SHARED_REDIS else 8)
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
accesslog = "-"
# The master builds the app once: a configuration error stops it with one line and a non-zero
# status, instead of every worker failing the same way in turn.
preload_app = True
# gunicorn 27's control socket has one default path per user, shared by every instance on the host:
# off unless GUNICORN_CONTROL_SOCKET gives this instance a path of its own.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True


def post_fork(server, worker):
    """Connections opened by the master (none are expected) must not be shared with the workers."""
    from app.extensions import db

    flask_app = server.app.wsgi()
    with flask_app.app_context():
        db.engine.dispose(close=False)
