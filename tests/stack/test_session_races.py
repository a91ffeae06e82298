"""Sessions under concurrent requests, on gunicorn, PostgreSQL and Redis (SPEC 4).

A password change ends every session issued before its answer, whatever races it: no token that a
refresh loop on a stolen session, or a login with the old password, minted around the change works
after it (each test runs its race in several rounds, a new user each); a password reset likewise. And a refresh token presented
by several requests at once is exchanged by one of them, the others ending its whole session.
"""

import re
import threading
import time

import pytest
import requests

from tests.accounts import PASSWORD, bearer, sign_up_over_http
from tests.stack.web_process import WebServer, stack_server_env
from tests.stack.worker_process import Worker

pytestmark = pytest.mark.stack

NEW_PASSWORD = "a fresh passphrase"
RACERS = 6
ROUNDS = 3
WARM_UP_CALLS = 3  # each racer's successes before the change is sent: they are all running when it lands
RACE_ON_SECONDS = 0.15  # how long the racers go on after the change answered
TIMEOUT = 10


@pytest.fixture
def server(pg_app, redis_url, tmp_path):
    with WebServer(stack_server_env(pg_app, redis_url), tmp_path / "gunicorn.log") as web:
        yield web.url


@pytest.fixture
def mailing_server(pg_app, redis_url, tmp_path):
    """The same server with the mail outbox, and a Celery worker that sends its mail (reset codes)."""
    env = {**stack_server_env(pg_app, redis_url), "MAIL_BACKEND": "outbox"}
    worker = Worker(env, tmp_path / "worker.log").start()
    try:
        with WebServer(env, tmp_path / "gunicorn.log") as web:
            yield web.url
    finally:
        worker.stop()


def post(base: str, path: str, **options) -> requests.Response:
    return requests.post(f"{base}{path}", timeout=TIMEOUT, **options)


def log_in(base: str, email: str, password: str = PASSWORD) -> requests.Response:
    return post(base, "/api/v1/auth/login", json={"email": email, "password": password})


class Racer(threading.Thread):
    """Calls ``step(session)`` as fast as the server answers until stopped; keeps every token pair minted."""

    def __init__(self, step):
        super().__init__(daemon=True)
        self.step = step
        self.minted: list[dict] = []
        self.refused = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self):
        try:
            with requests.Session() as session:
                while not self.stop.is_set():
                    tokens = self.step(session)
                    if tokens is None:
                        self.refused += 1
                    else:
                        self.minted.append(tokens)
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc


def logging_in(base: str, email: str):
    """A racer's step: a login with the old password."""
    def step(session):
        response = session.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD},
                                timeout=TIMEOUT)
        if response.status_code == 401:
            return None
        assert response.status_code == 200, response.text
        return response.json()
    return step


def refreshing(base: str, refresh_token: str):
    """A racer's step: a refresh with the latest refresh token of a stolen session (the presented one if none comes back)."""
    latest = [refresh_token]

    def step(session):
        response = session.post(f"{base}/api/v1/auth/refresh", headers=bearer(latest[0]), timeout=TIMEOUT)
        if response.status_code == 401:
            return None
        assert response.status_code == 200, response.text
        body = response.json()
        latest[0] = body.get("refresh_token", latest[0])
        return {"access_token": body["access_token"], "refresh_token": latest[0]}
    return step


def race(racers: list[Racer], change) -> requests.Response:
    """Start the racers, make the ``change()`` once they all run, let them go on a moment; the change's answer."""
    for racer in racers:
        racer.start()
    deadline = time.monotonic() + TIMEOUT
    while any(len(racer.minted) < WARM_UP_CALLS for racer in racers) and time.monotonic() < deadline:
        assert not any(racer.error for racer in racers), [racer.error for racer in racers]
        time.sleep(0.005)
    answer = change()
    time.sleep(RACE_ON_SECONDS)
    for racer in racers:
        racer.stop.set()
    for racer in racers:
        racer.join(TIMEOUT)
    assert not any(racer.is_alive() for racer in racers), "a racer hung"
    assert [racer.error for racer in racers] == [None] * len(racers)
    assert all(len(racer.minted) >= WARM_UP_CALLS for racer in racers), [len(racer.minted) for racer in racers]
    return answer


def race_a_password_change(base: str, owner: dict, racers: list[Racer]) -> dict:
    """The racers around a password change; the change's answer."""
    change = race(racers, lambda: requests.patch(
        f"{base}/api/v1/users/me", json={"password": NEW_PASSWORD, "current_password": PASSWORD},
        headers=bearer(owner["access_token"]), timeout=TIMEOUT))
    assert change.status_code == 200, change.text
    return change.json()


def mailed_reset_code(base: str, email: str) -> str:
    """The code of the reset mail the worker delivered to ``email``'s outbox, as its holder reads it."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        items = requests.get(f"{base}/api/v1/dev/mail-outbox", params={"email": email}, timeout=TIMEOUT).json()["items"]
        for mail in items:
            if mail["subject"] == "Reset your Agora password":
                return re.search(r"code is (\d{6})\.", mail["body"]).group(1)
        time.sleep(0.05)
    raise AssertionError(f"no reset mail reached {email} within {TIMEOUT} s")


def live_tokens(base: str, minted: list[dict]) -> list[str]:
    """Which of these tokens still work: an access token reads the profile, a refresh token refreshes."""
    live = []
    with requests.Session() as session:
        for number, tokens in enumerate(minted):
            if session.get(f"{base}/api/v1/users/me", headers=bearer(tokens["access_token"]),
                           timeout=TIMEOUT).status_code != 401:
                live.append(f"access token {number}")
            if session.post(f"{base}/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]),
                            timeout=TIMEOUT).status_code != 401:
                live.append(f"refresh token {number}")
    return live


def assert_the_answer_works(base: str, answer: dict) -> None:
    assert requests.get(f"{base}/api/v1/users/me", headers=bearer(answer["access_token"]),
                        timeout=TIMEOUT).status_code == 200
    assert post(base, "/api/v1/auth/refresh", headers=bearer(answer["refresh_token"])).status_code == 200


def test_no_token_a_refresh_loop_minted_around_a_password_change_works_after_it(server):
    live = {}
    for round_number in range(ROUNDS):
        email = f"refresher{round_number}@example.com"
        owner = sign_up_over_http(server, email)
        stolen = [log_in(server, email).json()["refresh_token"] for _ in range(RACERS)]
        racers = [Racer(refreshing(server, token)) for token in stolen]

        answer = race_a_password_change(server, owner, racers)

        minted = [tokens for racer in racers for tokens in racer.minted]
        assert all(racer.refused for racer in racers), "every loop ends refused, its session ended by the change"
        live[f"round {round_number}, of {len(minted)} pairs"] = live_tokens(server, minted)
        assert_the_answer_works(server, answer)
    assert all(tokens == [] for tokens in live.values()), live


def test_no_token_a_login_with_the_old_password_minted_during_the_change_works_after_it(server):
    live = {}
    for round_number in range(ROUNDS):
        email = f"loginracer{round_number}@example.com"
        owner = sign_up_over_http(server, email)
        racers = [Racer(logging_in(server, email)) for _ in range(RACERS)]

        answer = race_a_password_change(server, owner, racers)

        minted = [tokens for racer in racers for tokens in racer.minted]
        assert all(racer.refused for racer in racers), "every loop ends refused, the old password no longer right"
        live[f"round {round_number}, of {len(minted)} pairs"] = live_tokens(server, minted)
        assert_the_answer_works(server, answer)
        assert log_in(server, email, NEW_PASSWORD).status_code == 200
    assert all(tokens == [] for tokens in live.values()), live


def test_no_token_a_login_with_the_old_password_minted_during_a_reset_works_after_it(mailing_server):
    server, live = mailing_server, {}
    for round_number in range(ROUNDS):
        email = f"resetracer{round_number}@example.com"
        sign_up_over_http(server, email)
        assert post(server, "/api/v1/auth/password/forgot", json={"email": email}).status_code == 202
        code = mailed_reset_code(server, email)
        racers = [Racer(logging_in(server, email)) for _ in range(RACERS)]

        reset = race(racers, lambda: post(server, "/api/v1/auth/password/reset",
                                          json={"email": email, "code": code, "password": NEW_PASSWORD}))

        assert reset.status_code == 200, reset.text
        minted = [tokens for racer in racers for tokens in racer.minted]
        assert all(racer.refused for racer in racers), "every loop ends refused, the old password no longer right"
        live[f"round {round_number}, of {len(minted)} pairs"] = live_tokens(server, minted)
        assert_the_answer_works(server, reset.json())
    assert all(tokens == [] for tokens in live.values()), live


def test_concurrent_refreshes_with_one_token_leave_one_winner_and_end_the_session(server):
    owner = sign_up_over_http(server, "twice@example.com")
    session = log_in(server, "twice@example.com").json()
    barrier = threading.Barrier(RACERS, timeout=TIMEOUT)
    answers: list[requests.Response | None] = [None] * RACERS

    def refresh(number: int) -> None:
        barrier.wait()
        answers[number] = post(server, "/api/v1/auth/refresh", headers=bearer(session["refresh_token"]))

    threads = [threading.Thread(target=refresh, args=(number,)) for number in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [401] * (RACERS - 1), [answer.text for answer in answers]
    assert all(answer.json()["error"]["code"] == "token_revoked" for answer in answers if answer.status_code == 401)
    winner = next(answer.json() for answer in answers if answer.status_code == 200)
    assert live_tokens(server, [winner, session]) == []  # the reuse ended the whole session, the winner's pair too
    assert_the_answer_works(server, owner)  # the user's other session goes on
