"""A small client of the Agora API over HTTP. It never imports the app: it is a client like any other."""

import os
import random
import time

import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

RETRY_STATUSES = frozenset({502, 503, 504})
TOO_MANY_REQUESTS = 429
# A server's limits (SPEC 3) are waited out as often as they answer, up to this many times per call,
# each for at most the longest window a limit has (signups per address per hour).
LIMIT_WAITS = 20
LIMIT_WAIT_MAX_SECONDS = 3600.0


class BotApiError(Exception):
    """An API call that failed for good; the message names the endpoint and the API's error code."""

    def __init__(self, method: str, path: str, status: int | None, code: str | None, message: str):
        self.method, self.path, self.status, self.code = method, path, status, code
        where = f"{method} {path}"
        super().__init__(f"{where} answered {status} {code}: {message}" if status else f"{where}: {message}")


def keep_alive_session(base_url: str) -> requests.Session:
    """A session for one thread: one kept-alive connection, no retries of its own (the client retries).

    The proxy and CA settings of the environment are read once here instead of on every request
    (a quarter of requests' own cost per call); a ~/.netrc is never used, it would replace the Bearer token.
    """
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False
    session.proxies = get_environ_proxies(base_url)
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return session


class AgoraClient:
    """Calls with a timeout, retried with backoff on connection errors and 502-504; a 429 is waited out.

    A 429 means the request was not done: after ``on_limit(seconds, method, path, code)`` the client
    waits its ``Retry-After`` and sends it again, without spending a retry. One thread at a time.
    """

    def __init__(self, base_url: str, *, timeout: float = 10.0, retries: int = 4, backoff: float = 0.2,
                 session: requests.Session | None = None, on_limit=None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.session = session or keep_alive_session(self.base_url)
        self.on_limit = on_limit
        self.requests = 0

    def close(self) -> None:
        self.session.close()

    def call(self, method: str, path: str, *, token: str | None = None, json=None, expect=(200, 201),
             expect_after_retry=None) -> tuple[int, dict]:
        """Send a request; returns (status, body) for an expected status, else raises BotApiError.

        ``expect_after_retry`` widens ``expect`` once a request was sent again: an attempt that got
        no answer may still have been done, and the retry then finds its effect.
        """
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        attempt = waits = 0
        while True:
            try:
                response = self.session.request(method, self.base_url + path, json=json, headers=headers,
                                                timeout=self.timeout)
            except requests.RequestException as exc:
                if attempt == self.retries:
                    raise BotApiError(method, path, None, None, f"no answer ({exc.__class__.__name__})") from None
                self._sleep(attempt)
                attempt += 1
                continue
            self.requests += 1
            body = self._json(response)
            error = body.get("error", {}) if isinstance(body, dict) else {}
            if response.status_code == TOO_MANY_REQUESTS and waits < LIMIT_WAITS:
                waits += 1  # not an attempt: a 429 was not done, so a retry's wider expectation does not apply
                self._wait_out_limit(method, path, error.get("code"), response.headers.get("Retry-After"), waits)
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.retries:
                self._sleep(attempt, response.headers.get("Retry-After"))
                attempt += 1
                continue
            if response.status_code in (expect if attempt == 0 else expect_after_retry or expect):
                return response.status_code, body
            raise BotApiError(method, path, response.status_code, error.get("code"),
                              error.get("message") or response.reason)

    def _wait_out_limit(self, method: str, path: str, code: str | None, retry_after: str | None, waits: int) -> None:
        """Wait as long as the server's ``Retry-After`` says (backoff without one), saying so first."""
        if retry_after and retry_after.isdigit():
            delay = min(float(retry_after), LIMIT_WAIT_MAX_SECONDS)
        else:
            delay = self.backoff * 2 ** min(waits, 10)
        if self.on_limit is not None:
            self.on_limit(delay, method, path, code)
        time.sleep(delay)

    def _sleep(self, attempt: int, retry_after: str | None = None) -> None:
        delay = self.backoff * 2 ** attempt * (0.5 + random.random() / 2)
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), 30.0))
        time.sleep(delay)

    @staticmethod
    def _json(response) -> dict:
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    # --- the endpoints the bot uses ------------------------------------------------------------

    def healthy(self) -> None:
        """Fail fast (one try, short timeout) if the server is not there."""
        try:
            response = self.session.get(f"{self.base_url}/healthz", timeout=5)
        except requests.RequestException as exc:
            raise BotApiError("GET", "/healthz", None, None, f"cannot reach {self.base_url} ({exc.__class__.__name__})") from None
        if response.status_code != 200:
            raise BotApiError("GET", "/healthz", response.status_code, None, f"{self.base_url} is not healthy")

    def signup(self, email: str, password: str, name: str) -> dict:
        """Create an account; if a retried signup finds it made already, log in instead."""
        try:
            return self.call("POST", "/api/v1/auth/signup", json={"email": email, "password": password, "name": name},
                             expect=(201,))[1]
        except BotApiError as error:
            if error.code == "email_taken":
                return self.login(email, password)
            raise

    def login(self, email: str, password: str) -> dict:
        return self.call("POST", "/api/v1/auth/login", json={"email": email, "password": password}, expect=(200,))[1]

    def create_post(self, token: str, title: str, body: str) -> dict:
        return self.call("POST", "/api/v1/posts", token=token, json={"title": title, "body": body}, expect=(201,))[1]

    def like(self, token: str, post_id: int) -> dict:
        """Like a post: 201, a new like; 200 (already liked) is accepted only from a retry of this same like."""
        return self.call("POST", f"/api/v1/posts/{post_id}/like", token=token, expect=(201,),
                         expect_after_retry=(200, 201))[1]
