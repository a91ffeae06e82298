"""Start Agora under gunicorn on a free loopback port for a benchmark, and stop it afterwards."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(env_overrides: dict | None = None, *, workers: int | None = 1, threads: int | None = 8):
    """Yield the base URL of a fresh gunicorn serving Agora (embedded default unless overridden).

    ``workers`` and ``threads`` of None leave them to gunicorn.conf.py, as ``make serve`` does.
    """
    with tempfile.TemporaryDirectory(prefix="agora-bench-") as instance:
        port = free_port()
        env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": f"sqlite:///{instance}/bench.db",
               "BIND": f"127.0.0.1:{port}", "LOG_LEVEL": "WARNING", **(env_overrides or {})}
        for name, value in (("WEB_CONCURRENCY", workers), ("GUNICORN_THREADS", threads)):
            if value is None:
                env.pop(name, None)
            else:
                env[name] = str(value)
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--access-logfile", "/dev/null",
                   "wsgi:app"]
        with serving(command, env, port) as base_url:
            yield base_url


@contextmanager
def serving(command: list[str], env: dict, port: int):
    """Run ``command`` (a server listening on ``port``) until the block ends; yield its base URL."""
    with serving_process(command, env, port) as (base_url, _):
        yield base_url


@contextmanager
def serving_process(command: list[str], env: dict, port: int, *, log_path: str | None = None):
    """``serving``, yielding the base URL and the server's process (its master, for its memory and CPU).

    ``log_path`` keeps the server's output there (it is discarded otherwise).
    """
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{command[2:4]} did not start")
            time.sleep(0.1)
        yield base_url, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if log_path:
            log.close()
