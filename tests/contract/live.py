"""Agora's gunicorn, started as ``make serve`` starts it but with a worker class given on the command line,
on a fresh SQLite file (``tests.servers.server_env``): the live server of the contract tests."""

from pathlib import Path

from tests import servers

# gunicorn 27 loads a worker class by its dotted path (module.Class): ``module:Class`` is not understood.
THREAD_WORKER = "app.core.serving.JsonErrorThreadWorker"
SYNC_WORKER = "app.core.serving.JsonErrorSyncWorker"


def gunicorn(env: dict, log_path: Path, worker_class: str = THREAD_WORKER):
    """``make serve``'s gunicorn with ``--worker-class WORKER`` (the command line wins over the config
    file) on a free 127.0.0.1 port; a context manager yielding its URL, and always stopping it.

    A sync worker runs with ``--threads 1``: with more threads (gunicorn.conf.py's 32), gunicorn replaces
    any class whose name ends in ``SyncWorker`` by its plain gthread worker.
    """
    threads = ["--threads", "1"] if worker_class.endswith("SyncWorker") else []
    return servers.gunicorn(env, log_path, "--worker-class", worker_class, *threads)
