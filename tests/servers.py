"""Agora served as ``make serve`` serves it (``gunicorn --config gunicorn.conf.py wsgi:app``), for tests that need the real server.

gunicorn binds a free port (``BIND=127.0.0.1:0``) and the test reads it from the log; the server
runs in a session of its own, so stopping it also stops any worker its master left behind.
"""

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")
SERVER_TIMEOUT = 30.0


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


def wait_until_serving(process: subprocess.Popen, log_path: Path) -> str:
    """Read the bound URL from gunicorn's log, then wait for /healthz; fail with the log if it never answers."""
    deadline = time.monotonic() + SERVER_TIMEOUT
    url = None
    while time.monotonic() < deadline:
        log = log_path.read_text(errors="replace")
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}:\n{log}")
        if url is None and (match := LISTENING.search(log)):
            url = match.group(1)
        if url is not None:
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
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
