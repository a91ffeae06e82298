"""A real Celery worker in a subprocess, started the way production starts it: ``celery -A tasks.worker worker``.

The worker gets its whole configuration from the environment (as in a deployment), writes its
log to a file the test can watch, and runs in a session of its own so that a test can kill it
together with its prefork children. ``stop`` always leaves no process behind.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"celery@\S+ ready\.")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
POLL_SECONDS = 0.05
# Bootsteps a test rarely needs: they only slow a worker's start and its reconnects.
LEAN = ("heartbeat", "gossip", "mingle")


class WorkerFailed(AssertionError):
    """The worker exited, or did not log what was awaited in time."""


class Worker:
    """One ``celery -A tasks.worker worker`` process consuming the ``integrations``, ``sms`` and ``mail`` queues."""

    def __init__(self, env: dict, log_path: Path, *, pool: str = "prefork", concurrency: int = 1,
                 without: tuple[str, ...] = LEAN):
        """``without``: the bootsteps turned off (``--without-<name>``); ``()`` runs them all, as ``make worker``."""
        self.env = env
        self.log_path = Path(log_path)
        self.command = [
            sys.executable, "-m", "celery", "-A", "tasks.worker", "worker", "--loglevel=INFO",
            f"--concurrency={concurrency}", f"--pool={pool}", "-Q", "integrations,sms,mail",
            *(f"--without-{name}" for name in without),
        ]
        self.process: subprocess.Popen | None = None
        self._log_file = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self, timeout: float = START_TIMEOUT) -> "Worker":
        self._log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=self._log_file,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.wait_for(READY, timeout=timeout, what="the worker to be ready")
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for(self, pattern: str | re.Pattern, *, timeout: float = 20.0, what: str | None = None) -> re.Match:
        """Wait until the worker's log matches ``pattern``; fail at once if the worker exits first."""
        pattern = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            match = pattern.search(self.log())
            if match:
                return match
            if self.process.poll() is not None:
                raise WorkerFailed(f"the worker exited with {self.process.returncode} while waiting for "
                                   f"{what or pattern.pattern}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise WorkerFailed(f"timed out after {timeout}s waiting for {what or pattern.pattern}:\n{self.tail()}")
            time.sleep(POLL_SECONDS)

    def wait_for_task(self, task_id: str, *, timeout: float = 20.0) -> None:
        """Wait until this worker logs that the task ``task_id`` ended (its last run succeeded or raised)."""
        self.wait_for(rf"Task [\w.]+\[{re.escape(task_id)}\] (succeeded|raised)", timeout=timeout,
                      what=f"task {task_id} to end")

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once, as a crash or an OOM kill would."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """Warm shutdown, then SIGKILL whatever is left of the process group; idempotent."""
        if self.process is None:
            return
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    pass
            self._signal_group(signal.SIGKILL)  # stragglers: a pool child whose parent is gone
            self.process.wait(timeout=STOP_TIMEOUT)
        finally:
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)  # start_new_session: the group id is the worker's pid
        except ProcessLookupError:
            pass


def worker_env(settings: dict) -> dict:
    """This process's environment plus ``settings`` (configuration names are environment names)."""
    env = dict(os.environ)
    env.update({name: str(value) for name, value in settings.items() if value is not None})
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
