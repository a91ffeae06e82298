"""The app under gunicorn in a subprocess, started the way ``make serve`` starts it: ``gunicorn --config gunicorn.conf.py wsgi:app``.

gunicorn binds a free port (``BIND=127.0.0.1:0``) and logs it; the server writes its log to a
file the test can read, runs in a session of its own, and ``stop`` always leaves no process behind.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
POLL_SECONDS = 0.05


def stack_server_env(pg_app, redis_url) -> dict:
    """gunicorn on the stack tier's database and Redis, as deployed (two workers of eight threads), with limits off,
    cheap hashes and a Redis key prefix of its own."""
    url, prefix = redis_url
    return {
        **os.environ, "APP_ENV": "testing", "DATABASE_URL": pg_app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": url, "REDIS_KEY_PREFIX": f"{prefix}{os.urandom(4).hex()}:",
        "SECRET_KEY": os.urandom(32).hex(), "JWT_SECRET_KEY": os.urandom(32).hex(), "RATELIMIT_ENABLED": "false",
        "PASSWORD_HASH_TIME_COST": "1", "PASSWORD_HASH_MEMORY_KIB": "1024", "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "8", "LOG_LEVEL": "WARNING",
    }


class ServerFailed(AssertionError):
    """gunicorn exited, or did not come up in time."""


class WebServer:
    """``gunicorn --config gunicorn.conf.py wsgi:app`` on 127.0.0.1, with its own port and no control socket."""

    def __init__(self, env: dict, log_path: Path):
        self.env = {**env, "BIND": "127.0.0.1:0"}
        self.log_path = Path(log_path)
        self.command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--no-control-socket",
                        "wsgi:app"]
        self.process: subprocess.Popen | None = None
        self.url: str | None = None
        self._log_file = None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self, timeout: float = START_TIMEOUT) -> "WebServer":
        self._log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=self._log_file,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            if self.url is None and (match := LISTENING.search(self.log())):
                self.url = match.group(1)
            if self.url is not None and self._answers():
                return self
            time.sleep(POLL_SECONDS)
        raise ServerFailed(f"gunicorn did not answer within {timeout}s:\n{self.log()}")

    def _answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        """TERM the whole process group, then KILL what is left."""
        if self.process is not None and self.process.poll() is None:
            for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, STOP_TIMEOUT)):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # a worker the master left behind
            except ProcessLookupError:
                pass
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> "WebServer":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
