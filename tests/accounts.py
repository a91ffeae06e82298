"""An API user as the tests drive one: the test password, the bearer header of a token, signing up, the settled profile."""

import time
from itertools import count

import requests

from app.auth.tokens import issue_tokens

PASSWORD = "correct horse"
SIGNUP = "/api/v1/auth/signup"
ME = "/api/v1/users/me"

_emails = count(1)


def bearer(token: str) -> dict:
    """The Authorization header that presents ``token``."""
    return {"Authorization": f"Bearer {token}"}


def headers_for(app, user_id: int) -> dict:
    """The headers of a fresh access token for ``user_id``, minted by ``app`` (no signup, no request)."""
    with app.app_context():
        return bearer(issue_tokens(user_id)["access_token"])


def sign_up_answer(client, email: str | None = None, password: str = PASSWORD, name: str | None = None) -> dict:
    """Sign a new user up through a Flask test client; the answer: ``user``, ``access_token``, ``refresh_token``."""
    email = email or f"user{next(_emails)}@example.com"
    response = client.post(SIGNUP, json={"email": email, "password": password, "name": name})
    assert response.status_code == 201, response.json
    return response.json


def sign_up_on(client, email: str | None = None, password: str = PASSWORD, name: str | None = None) -> tuple[dict, dict]:
    """Sign a new user up through a Flask test client; their profile and the headers of their access token."""
    answer = sign_up_answer(client, email, password, name)
    return answer["user"], bearer(answer["access_token"])


def sign_up_over_http(base_url: str, email: str | None = None, password: str = PASSWORD, name: str | None = None, *,
                      timeout: float = 10.0) -> dict:
    """Sign a new user up at a live server's ``base_url``; the answer: ``user``, ``access_token``, ``refresh_token``."""
    email = email or f"user{next(_emails)}@example.com"
    response = requests.post(f"{base_url}{SIGNUP}", json={"email": email, "password": password, "name": name},
                             timeout=timeout)
    assert response.status_code == 201, response.text
    return response.json()


def settled_profile(client, headers: dict, *, timeout: float = 10.0) -> dict:
    """The profile (read through a Flask test client) once neither of its checks is pending any more."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(ME, headers=headers)
        assert response.status_code == 200, response.json
        profile = response.json
        if "pending" not in (profile["email_status"], profile["enrichment_status"]):
            return profile
        assert time.monotonic() < deadline, \
            f"checks did not settle within {timeout}s: {profile['email_status']}, {profile['enrichment_status']}"
        time.sleep(0.05)
