"""schemathesis hooks of the contract test (loaded through SCHEMATHESIS_HOOKS): authentication as a client has it.

Auth providers, so that schemathesis knows the credentials are auth (``ignored_auth`` still sends requests
without them, or with a bad token, on purpose). The first provider whose filter matches an operation wins:

- ``PATCH /api/v1/users/me``: a throw-away account per test case. A new email or password ends every
  session of the account (SPEC 4: revoked tokens answer 401 ``token_revoked``), which would otherwise
  revoke the token every later request uses.
- ``POST /api/v1/auth/refresh``: the refresh token of a throw-away account per test case (it takes no access
  token). Refresh tokens rotate: presenting one again ends its session (SPEC 4), the signed-up account's too.
- everything else: the access token of the account the test signed up.
"""

import itertools
import os

import schemathesis

from tests.accounts import bearer, sign_up_over_http

BASE_URL = os.environ["AGORA_BASE_URL"]
ACCESS_TOKEN = os.environ["AGORA_ACCESS_TOKEN"]
_throwaways = itertools.count(1)


def authorize(case, token: str) -> None:
    """Send ``token`` as the case's bearer token."""
    case.headers = {**(case.headers or {}), **bearer(token)}


def throwaway_session() -> dict:
    return sign_up_over_http(BASE_URL, f"throwaway-{next(_throwaways)}@example.com", timeout=30)


@schemathesis.auth(refresh_interval=None).apply_to(name="PATCH /api/v1/users/me")
class ThrowAwayAccount:
    """A fresh account for every case: whatever the case changes, no other case loses its session."""

    def get(self, case, ctx):
        return throwaway_session()["access_token"]

    def set(self, case, data, ctx):
        authorize(case, data)


@schemathesis.auth(refresh_interval=None).apply_to(name="POST /api/v1/auth/refresh")
class RefreshToken:
    """A fresh account's refresh token for every case: each is good once."""

    def get(self, case, ctx):
        return throwaway_session()["refresh_token"]

    def set(self, case, data, ctx):
        authorize(case, data)


@schemathesis.auth(refresh_interval=None)
class AccessToken:
    def get(self, case, ctx):
        return ACCESS_TOKEN

    def set(self, case, data, ctx):
        authorize(case, data)
