"""Agora's gunicorn, started as ``make serve`` starts it but with a worker class given on the command line,
on a fresh SQLite file: the live server of the contract tests."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests import servers
from tests.servers import ROOT

BIN = Path(sys.executable).parent
# gunicorn 27 loads a worker class by its dotted path (module.Class): ``module:Class`` is not understood.
THREAD_WORKER = "app.core.serving.JsonErrorThreadWorker"
SYNC_WORKER = "app.core.serving.JsonErrorSyncWorker"


def server_env(home: Path, **variables) -> dict:
    """The embedded default (SQLite under ``home``, fakeredis, tasks in-process) with the SMS and mail outboxes
    and rate limits off: nothing from the caller's shell or a .env file, nothing written to the repository."""
    return {
        "PATH": os.environ["PATH"], "HOME": str(home), "PYTHON_DOTENV_DISABLED": "1", "FLASK_SKIP_DOTENV": "1",
        "APP_ENV": "development", "DATABASE_URL": f"sqlite:///{home / 'agora.db'}",
        "SECRET_KEY": secrets.token_urlsafe(48), "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "SMS_BACKEND": "outbox", "SMS_DELAY_SECONDS": "0", "RATELIMIT_ENABLED": "false", "LOG_LEVEL": "WARNING",
        "MAIL_BACKEND": "outbox", **variables,
    }


def migrate(env: dict, timeout: float = 60) -> None:
    """``flask db upgrade`` on the server's database (what ``make serve`` does first)."""
    done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr


def gunicorn(env: dict, log_path: Path, worker_class: str = THREAD_WORKER):
    """``make serve``'s gunicorn with ``--worker-class WORKER`` (the command line wins over the config
    file) on a free 127.0.0.1 port; a context manager yielding its URL, and always stopping it.

    A sync worker runs with ``--threads 1``: with more threads (gunicorn.conf.py's 32), gunicorn replaces
    any class whose name ends in ``SyncWorker`` by its plain gthread worker.
    """
    threads = ["--threads", "1"] if worker_class.endswith("SyncWorker") else []
    return servers.gunicorn(env, log_path, "--worker-class", worker_class, *threads)
