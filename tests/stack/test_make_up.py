"""`make up`: the Procfile's proxy, web, streams, worker and beat start together on PostgreSQL and Redis, answer at
the proxy's one address, and stop together."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.servers import free_address

pytestmark = [pytest.mark.stack, pytest.mark.timeout(90)]

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 45.0
STOP_TIMEOUT = 30.0
BEAT_STARTED = re.compile(r"beat\.1\s+\| .*beat: Starting")


def log_of(path: Path) -> str:
    return path.read_text(errors="replace")


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def test_make_up_runs_the_procfile_behind_one_address_and_one_ctrl_c_stops_them_all(empty_database_url, redis_url,
                                                                                     tmp_path):
    url, prefix = redis_url
    address = free_address()
    env = {
        **os.environ, "APP_ENV": "development", "DATABASE_URL": empty_database_url, "REDIS_URL": url,
        "REDIS_KEY_PREFIX": f"{prefix}up:", "PROXY_BIND": address, "API_BIND": free_address(),
        "STREAMS_BIND": free_address(), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2",
        "WORKER_HEARTBEAT_SECONDS": "1", "SECRET_KEY": "make-up-test-secret-key-of-32-bytes!",
        "JWT_SECRET_KEY": "make-up-test-jwt-signing-key-of-32-bytes", "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
    }
    log_path = tmp_path / "up.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(["make", "--no-print-directory", "up"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        base, checks = f"http://{address}", None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = requests.get(f"{base}/readyz", timeout=2)
                checks = (answer.json().get("checks") or answer.json()["error"]["checks"])
                if answer.status_code == 200 and BEAT_STARTED.search(log_of(log_path)):
                    break
            except (requests.RequestException, ValueError, KeyError):
                pass
            time.sleep(0.2)
        log = log_of(log_path)
        assert process.poll() is None, f"make up exited with {process.returncode}:\n{log}"
        assert checks == {"database": "ok", "redis": "ok", "broker": "ok", "worker": "ok"}, log
        for name in ("proxy", "web", "streams", "worker", "beat"):
            assert re.search(rf"^\S+ {name}\.1\s+\| ", log, re.MULTILINE), f"no {name} lines in the log:\n{log}"
        assert BEAT_STARTED.search(log), log
        # The one address: the stream's route reaches a streaming process (it asks for a token; the API's own
        # processes would answer 503), through nginx.
        events = requests.get(f"{base}/api/v1/events", timeout=5)
        assert events.status_code == 401 and events.headers["Server"] == "nginx", (events.status_code, log)

        os.killpg(process.pid, signal.SIGINT)  # what a Ctrl-C in the terminal sends
        process.wait(timeout=STOP_TIMEOUT)
        stopped_by = time.monotonic() + 5
        while group_alive(process.pid) and time.monotonic() < stopped_by:
            time.sleep(0.1)
        assert not group_alive(process.pid), f"processes outlived make up:\n{log_of(log_path)}"
    finally:
        if group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
