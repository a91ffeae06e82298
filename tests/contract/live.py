"""Agora's gunicorn, started as ``make serve`` starts it but with a worker class given on the command line,
on a fresh SQLite file: the live server of the contract tests."""

import os
import secrets
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from tests.servers import ROOT, stop, wait_until_serving

BIN = Path(sys.executable).parent
# gunicorn 27 loads a worker class by its dotted path (module.Class): ``module:Class`` is not understood.
THREAD_WORKER = "app.core.serving.JsonErrorThreadWorker"
SYNC_WORKER = "app.core.serving.JsonErrorSyncWorker"


def server_env(home: Path, **variables) -> dict:
    """The embedded default (SQLite under ``home``, fakeredis, tasks in-process) with the SMS outbox and
    rate limits off: nothing from the caller's shell or a .env file, nothing written to the repository."""
    return {
        "PATH": os.environ["PATH"], "HOME": str(home), "PYTHON_DOTENV_DISABLED": "1", "FLASK_SKIP_DOTENV": "1",
        "APP_ENV": "development", "DATABASE_URL": f"sqlite:///{home / 'agora.db'}",
        "SECRET_KEY": secrets.token_urlsafe(48), "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "SMS_BACKEND": "outbox", "SMS_DELAY_SECONDS": "0", "RATELIMIT_ENABLED": "false", "LOG_LEVEL": "WARNING",
        **variables,
    }


def migrate(env: dict, timeout: float = 60) -> None:
    """``flask db upgrade`` on the server's database (what ``make serve`` does first)."""
    done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr


@contextmanager
def gunicorn(env: dict, log_path: Path, worker_class: str = THREAD_WORKER):
    """``gunicorn --config gunicorn.conf.py --worker-class WORKER wsgi:app`` on a free 127.0.0.1 port (the
    command line wins over the config file); yields its URL, and always stops it.

    A sync worker runs with ``--threads 1``: with more threads (gunicorn.conf.py's 8), gunicorn replaces
    any class whose name ends in ``SyncWorker`` by its plain gthread worker.
    """
    threads = ["--threads", "1"] if worker_class.endswith("SyncWorker") else []
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--worker-class", worker_class,
             *threads, "wsgi:app"],
            cwd=ROOT, env={**env, "BIND": "127.0.0.1:0"}, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            yield wait_until_serving(process, log_path)
        finally:
            stop(process)
