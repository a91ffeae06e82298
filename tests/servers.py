"""Agora served as ``make serve`` serves it (``gunicorn --config gunicorn.conf.py wsgi:app``), and its streaming
processes (``gunicorn --config gunicorn.streams.conf.py app.events.wsgi:app``), for tests that need the real servers.

gunicorn binds a free port (``BIND=127.0.0.1:0``) and the test reads it from the log; a streaming process
keeps one address across restarts (``free_address``). Each server runs in a session of its own, so stopping
it also stops any worker its master left behind.
"""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")
SERVER_TIMEOUT = 30.0


def server_env(home: Path, **variables) -> dict:
    """The embedded default (SQLite under ``home``, fakeredis, tasks in-process) with the SMS and mail outboxes
    and rate limits off: nothing from the caller's shell or a .env file, nothing written to the repository."""
    return {
        "PATH": os.environ["PATH"], "HOME": str(home), "PYTHON_DOTENV_DISABLED": "1", "FLASK_SKIP_DOTENV": "1",
        "APP_ENV": "development", "DATABASE_URL": f"sqlite:///{home / 'agora.db'}",
        # Given keys: the app then writes no instance/secrets.json.
        "SECRET_KEY": secrets.token_urlsafe(48), "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "SMS_BACKEND": "outbox", "SMS_DELAY_SECONDS": "0", "RATELIMIT_ENABLED": "false", "LOG_LEVEL": "WARNING",
        "MAIL_BACKEND": "outbox", **variables,
    }


def migrate(env: dict, timeout: float = 60) -> None:
    """``flask db upgrade`` on the server's database (what ``make serve`` does first)."""
    done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr


@contextmanager
def gunicorn(env: dict, log_path: Path, *options: str):
    """``make serve``'s gunicorn on a free 127.0.0.1 port with exactly ``env``; yields its URL, always stopped.

    ``options`` go on the command line, where they win over gunicorn.conf.py (e.g. ``--worker-class``).
    """
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", *options, "wsgi:app"],
            cwd=ROOT, env={**env, "BIND": "127.0.0.1:0"}, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            yield wait_until_serving(process, log_path)
        finally:
            stop(process)


def wait_until_serving(process: subprocess.Popen, log_path: Path, url: str | None = None, probe: str = "/healthz") -> str:
    """Read the bound URL from gunicorn's log (unless given), then wait for ``probe`` to answer 200; fail with the
    log if it never does."""
    deadline = time.monotonic() + SERVER_TIMEOUT
    while time.monotonic() < deadline:
        log = log_path.read_text(errors="replace")
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}:\n{log}")
        if url is None and (match := LISTENING.search(log)):
            url = match.group(1)
        if url is not None:
            try:
                if requests.get(f"{url}{probe}", timeout=2).status_code == 200:
                    return url
            except requests.RequestException:
                pass
        time.sleep(0.05)
    raise AssertionError(f"gunicorn did not answer within {SERVER_TIMEOUT}s:\n{log_path.read_text(errors='replace')}")


def stop(process: subprocess.Popen) -> None:
    """TERM the server's process group, KILL it if it lingers, and whatever the master left behind."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=10)
            break
        except ProcessLookupError:
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def free_port() -> int:
    """A 127.0.0.1 port that is free now, for a server given its port (it may be taken again before it binds)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_address() -> str:
    """A 127.0.0.1 address whose port is free now: for a server that must keep its address, or cannot log it (nginx)."""
    return f"127.0.0.1:{free_port()}"


class StreamingProcess:
    """``gunicorn --config gunicorn.streams.conf.py app.events.wsgi:app`` at one address, started and stopped
    (or killed) as often as a test likes; ready once its /readyz says it reads the fan-out."""

    def __init__(self, env: dict, log_path: Path):
        self.address = free_address()
        self.url = f"http://{self.address}"
        self.env = {**env, "STREAMS_BIND": self.address}
        self.log_path = Path(log_path)
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> "StreamingProcess":
        self.starts += 1
        log_path = self.log_path.with_name(f"{self.log_path.stem}.{self.starts}{self.log_path.suffix}")
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "gunicorn.streams.conf.py", "app.events.wsgi:app"],
                cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until_serving(self.process, log_path, self.url, "/readyz")
        return self

    def kill(self) -> None:
        """SIGKILL the master and its worker at once, as a crash or an OOM kill would."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
