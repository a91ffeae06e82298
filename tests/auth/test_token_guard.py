"""``verify_token``: Agora's own check of the bearer token, answering as flask-jwt-extended's ``jwt_required`` does."""

import pytest
from flask_jwt_extended import create_access_token, decode_token, get_jwt, verify_jwt_in_request
from flask_jwt_extended.exceptions import InvalidHeaderError, NoAuthorizationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt import DecodeError

from app.auth.tokens import bearer_token
from app.extensions import jwt
from tests.accounts import bearer
from tests.errors import ME, assert_error

HEADER_PARTS = st.sampled_from(["Bearer", "bearer", "Basic", "FIRST", "SECOND", "x", ",", ", ", " ", "  ", "\t", "="])


def answer(error: Exception) -> tuple:
    """What a client learns of a refused header: the error's kind (401 authorization_required or
    invalid_token), and for invalid_token its message (the missing-token answer has a fixed one)."""
    return type(error), str(error) if isinstance(error, InvalidHeaderError) else ""


# Two real tokens stand for FIRST and SECOND (subjects 1 and 2): flask-jwt-extended reads a header only
# on the way to verifying its token, so what it read is known by the token it verified.
PLACEHOLDERS = {"FIRST": "1", "SECOND": "2"}
UNDECODABLE = ("a credential that is not a token",)


def tokens(app) -> dict[str, str]:
    """The real token of each placeholder, made once per app."""
    if "test_tokens" not in app.extensions:
        with app.app_context():
            app.extensions["test_tokens"] = {name: create_access_token(subject) for name, subject in PLACEHOLDERS.items()}
    return app.extensions["test_tokens"]


def reference_reading(app, value: str):
    """What flask-jwt-extended's own ``verify_jwt_in_request`` makes of ``value``: the token, or its answer."""
    with app.test_request_context(headers={"Authorization": value}):
        try:
            verify_jwt_in_request()
        except (NoAuthorizationError, InvalidHeaderError) as error:
            return answer(error)
        except DecodeError:  # it read a credential that is no token
            return UNDECODABLE
        except IndexError:  # it fails (a 500) on a blank credential between commas: read it without them
            return reference_reading(app, ",".join(part for part in value.split(",") if part.strip()))
        return token_of(app, get_jwt()["sub"])


def our_reading(app, value: str):
    """What ``bearer_token`` reads, identified as the reference's is: by the token it verifies as."""
    with app.app_context():
        try:
            token = bearer_token(value)
        except (NoAuthorizationError, InvalidHeaderError) as error:
            return answer(error)
        try:
            return token_of(app, decode_token(token)["sub"])
        except DecodeError:
            return UNDECODABLE


def token_of(app, subject: str) -> str:
    return next(tokens(app)[name] for name, each in PLACEHOLDERS.items() if each == subject)


def assert_read_alike(app, value: str) -> None:
    for name, token in tokens(app).items():
        value = value.replace(name, token)
    assert our_reading(app, value) == reference_reading(app, value)


@pytest.mark.parametrize("value", [
    "", " ", ",", "Bearer", "Bearer ", "Bearer FIRST", "  Bearer FIRST , ", "Bearer FIRST, Basic xyz",
    "Basic xyz, Bearer FIRST", "Bearer FIRST, Bearer SECOND", "Bearer FIRST d", "bearer FIRST", "Basic xyz",
    "Bearer\tFIRST", ",Bearer FIRST,", ", ,", "Bearer FIRST, ,", ", ,Bearer", ", , Bearer FIRST", "Bearer a.b.c",
])
def test_header_shapes_read_as_flask_jwt_extended_reads_them(app, value):
    assert_read_alike(app, value)


# The app only supplies configuration and a request context: nothing it holds changes between examples.
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(HEADER_PARTS, max_size=8).map("".join))
def test_any_header_reads_as_flask_jwt_extended_reads_it(app, value):
    assert_read_alike(app, value)


def test_a_blank_credential_between_commas_is_401_authorization_required(client):
    assert_error(client.get(ME, headers={"Authorization": ", ,"}), 401, "authorization_required")


def test_a_token_naming_no_user_is_401_invalid_token(client, in_app):
    token = in_app(create_access_token, "admin")
    assert_error(client.get(ME, headers=bearer(token)), 401, "invalid_token")


def test_an_optional_token_may_be_absent_but_a_bad_one_is_refused(client):
    assert client.get("/api/v1/posts").status_code == 200
    assert_error(client.get("/api/v1/posts", headers={"Authorization": "Bearer a.b.c"}), 401, "invalid_token")


def test_a_verified_token_is_remembered_with_its_header_and_handed_out_as_a_copy(app, in_app):
    token = in_app(create_access_token, "7")
    with app.app_context():
        header, claims = jwt.verified_token(token)
        claims["sub"] = "8"  # a caller changing its copy
        again_header, again = jwt.verified_token(token)
    assert header == again_header and header["alg"] == "HS256"
    assert again["sub"] == "7"
    assert len(jwt._verified) >= 1
