"""gunicorn settings: one process with threads on the embedded default, several workers with a Redis server."""

import os

from dotenv import load_dotenv

load_dotenv()

bind = os.environ.get("BIND", "127.0.0.1:8000")
# fakeredis lives inside one process: without REDIS_URL, every request must reach the same process.
workers = int(os.environ.get("WEB_CONCURRENCY") or (2 * (os.cpu_count() or 1) + 1 if os.environ.get("REDIS_URL") else 1))
threads = int(os.environ.get("GUNICORN_THREADS", 8))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
accesslog = "-"
