"""The worker's entry (``tasks.worker``) and ``make worker``, run as subprocesses without any service."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NO_BROKER = ("agora worker: no broker configured: set CELERY_BROKER_URL or REDIS_URL "
             "(e.g. redis://127.0.0.1:6379/0)")
# Make the installed environment count as up to date: the tests never install anything.
RESTARTING = re.compile(r"make worker: the worker exited with status [1-9]\d*; restarting it in 2 s\n")
MAKE = ["make", "--no-print-directory", "-o", ".venv/.installed-stamp"]


def environment(**settings) -> dict:
    """This process's environment with no database, Redis or broker (empty, so a .env file cannot fill them in)."""
    env = {**os.environ, "APP_ENV": "testing", "DATABASE_URL": "", "REDIS_URL": "", "CELERY_BROKER_URL": ""}
    env.update(settings)
    return env


def test_the_worker_refuses_to_start_without_a_broker():
    finished = subprocess.run([sys.executable, "-m", "celery", "-A", "tasks.worker", "worker"], cwd=ROOT,
                              env=environment(), capture_output=True, text=True, timeout=60)
    assert finished.returncode == 78
    assert finished.stderr.splitlines() == [NO_BROKER]
    assert finished.stdout == ""


def test_make_worker_without_a_broker_stops_at_once_instead_of_restarting():
    finished = subprocess.run([*MAKE, "worker"], cwd=ROOT, env=environment(), capture_output=True, text=True,
                              timeout=60)
    assert finished.returncode != 0
    assert finished.stderr.splitlines()[0] == NO_BROKER
    assert "restarting" not in finished.stderr


def worker_pids(session: int) -> list[int]:
    """The celery processes in the process group ``session`` (not make, nor the shell running its loop)."""
    listing = subprocess.run(["ps", "-o", "pid=,args=", "-g", str(session)], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in listing.splitlines()
            if "celery -A tasks.worker worker" in line and "while" not in line]


def test_make_worker_restarts_a_worker_that_crashed():
    # A broker nobody answers: the worker starts and keeps trying it, until it is killed (as an OOM kill would).
    env = environment(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    process = subprocess.Popen([*MAKE, "worker"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not worker_pids(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        first = worker_pids(process.pid)
        assert first, "make worker started no worker"
        time.sleep(1.0)  # let it get past its imports
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        lines = []
        while time.monotonic() < deadline and not any("restarting" in line for line in lines):
            line = process.stderr.readline()
            if not line:
                break
            lines.append(line)
        assert any(RESTARTING.fullmatch(line) for line in lines), "".join(lines)
        assert process.poll() is None  # the loop goes on
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        process.stderr.close()


def test_make_worker_stops_at_once_on_a_configuration_error():
    finished = subprocess.run([*MAKE, "worker"], cwd=ROOT, env=environment(APP_ENV="no-such-environment"),
                              capture_output=True, text=True, timeout=60)
    assert finished.returncode != 0
    assert "restarting" not in finished.stderr
    assert [line for line in finished.stderr.splitlines() if "Agora configuration error" in line]


def test_a_configuration_error_stops_the_worker_with_one_line():
    finished = subprocess.run([sys.executable, "-m", "celery", "-A", "tasks.worker", "worker"], cwd=ROOT,
                              env=environment(LOG_LEVEL="loud", REDIS_URL="redis://127.0.0.1:1/0"),
                              capture_output=True, text=True, timeout=60)
    assert finished.returncode == 78  # EX_CONFIG: make worker and systemd do not restart it
    lines = [line for line in finished.stderr.splitlines() if "Agora configuration error" in line]
    assert len(lines) == 1 and "LOG_LEVEL" in lines[0]
    assert "Traceback" not in finished.stderr
