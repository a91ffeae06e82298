"""Redis, the broker, goes away while a task runs and comes back: the worker survives and delivers again.

The test runs a Redis server of its own on a free port (the shared one on 6379 is never touched),
a real ``celery -A tasks.worker worker`` started the way ``make worker`` starts it (two pool
processes, every bootstep on), and a web app in process, all three on that server.
"""

import re
import shutil
import subprocess
import time
import uuid

import pytest
import redis

from tests.conftest import service_unavailable
from tests.servers import free_port
from tests.stack.test_worker import Stack, wait_until
from tests.stack.worker_process import Worker, worker_env

pytestmark = [pytest.mark.stack, pytest.mark.timeout(40)]

FIRST_PHONE = "+79991234567"
SECOND_PHONE = "+79997654321"
CODE = re.compile(r"Your Agora code is \d{4}\.")
TASK_ENDED = re.compile(r"Task tasks\.send_sms_code\[[\w-]+\] (succeeded|raised)")
REDIS_START_TIMEOUT = 10.0


class RedisServer:
    """A ``redis-server`` subprocess on 127.0.0.1, keeping nothing on disk, restartable on the same port."""

    def __init__(self, log_path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--daemonize", "no"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + REDIS_START_TIMEOUT
        try:
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(f"redis-server exited with {self.process.returncode}")
                try:
                    client.ping()
                    return self
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise AssertionError(f"redis-server did not answer on port {self.port}") from None
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        """Shut the server down (SIGTERM: it closes every client connection); SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        service_unavailable("redis-server is not installed")
    server = RedisServer(tmp_path / "redis.log")
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def stack(postgres_schema, private_redis, providers, tmp_path):
    stack = Stack(postgres_schema, private_redis.url, f"agora-test-{uuid.uuid4().hex[:8]}:", providers, tmp_path)
    try:
        yield stack
    finally:
        stack.close()


def why_it_died(log: str) -> str:
    """The worker's last critical line (e.g. ``Unrecoverable error: ...``); its traceback would bury it."""
    critical = [line for line in log.splitlines() if "CRITICAL/" in line]
    return critical[-1] if critical else log[-2000:]


def outbox(client, phone: str) -> list[dict]:
    answer = client.get("/api/v1/dev/sms-outbox", query_string={"phone": phone})
    assert answer.status_code == 200, answer.json
    return answer.json["items"]


def test_the_worker_survives_redis_restarting_mid_task_and_delivers_later_codes(stack, private_redis):
    env = worker_env({
        "APP_ENV": "testing", "LOG_LEVEL": "INFO", **stack.settings,
        "SMS_BACKEND": "outbox", "SMS_DELAY_SECONDS": "1-1.5",
    })
    # As `make worker` runs it: one pool process per core (two here), heartbeat, gossip and mingle on.
    worker = Worker(env, stack.tmp_path / "worker.log", concurrency=2, without=())
    stack.workers.append(worker)
    worker.start()
    client = stack.app(SMS_BACKEND="outbox").test_client()

    asked = client.post("/api/v1/auth/phone/code", json={"phone": FIRST_PHONE})
    assert asked.status_code == 202, asked.json
    worker.wait_for(r"Task tasks\.send_sms_code\[[\w-]+\] received", timeout=10, what="the first SMS task")
    private_redis.stop()  # mid-task: the worker still waits out the 1-1.5 s gateway delay
    assert not TASK_ENDED.search(worker.log()), "the first task ended before Redis went: the test proves nothing"
    private_redis.start()  # the same port, and empty, as a Redis that keeps nothing on disk comes back
    worker.wait_for(r"Connection to broker lost", timeout=10, what="the worker to notice that the broker left")

    def queued():
        answer = client.post("/api/v1/auth/phone/code", json={"phone": SECOND_PHONE})
        return answer if answer.status_code == 202 else None  # 503 while the web app reconnects: ask again

    wait_until(queued, "the web app to queue a code again", timeout=10)

    def delivered():
        assert worker.alive(), f"the worker exited with {worker.process.returncode}: {why_it_died(worker.log())}"
        return outbox(client, SECOND_PHONE)

    [message] = wait_until(delivered, "the second code to reach the outbox", timeout=20)
    assert CODE.match(message["body"])
    assert worker.alive()
    assert "Unrecoverable error" not in worker.log()
