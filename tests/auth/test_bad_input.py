"""Bad tokens and bad signup/login fields are a 4xx in the error shape, never a 500."""

from datetime import timedelta

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token

from app.extensions import db
from app.users.models import User
from tests.accounts import bearer
from tests.errors import ME, POSTS, SIGNUP, assert_error, assert_field_error, change_char

# --- signup and login fields ------------------------------------------------------------------

def test_password_as_number_is_422_naming_password(client):
    response = client.post(SIGNUP, json={"email": "a@example.com", "password": 12345678})
    assert_field_error(response, "password")


def test_email_as_object_is_422_naming_email(client):
    response = client.post(SIGNUP, json={"email": {"address": "a@example.com"}, "password": "long enough"})
    assert_field_error(response, "email")


def test_missing_required_field_is_422_naming_it(client):
    response = client.post(SIGNUP, json={"email": "a@example.com"})
    assert_field_error(response, "password")


def test_unknown_field_on_signup_is_422_unknown_field(client):
    response = client.post(SIGNUP, json={"email": "a@example.com", "password": "long enough", "x": 1})
    assert_error(response, 422, "validation_error", fields={"x": ["Unknown field."]})


def test_name_over_100_characters_is_422_naming_name(client):
    response = client.post(SIGNUP, json={"email": "a@example.com", "password": "long enough", "name": "n" * 101})
    assert_field_error(response, "name")


def test_password_over_128_characters_is_422_naming_password(client):
    response = client.post(SIGNUP, json={"email": "a@example.com", "password": "p" * 129})
    assert_field_error(response, "password")


def test_login_password_over_128_characters_is_422_naming_password(client):
    response = client.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "p" * 129})
    assert_field_error(response, "password")


def test_email_over_254_characters_is_422_naming_email(client):
    email = "a" * 64 + "@" + ".".join(["d" * 60] * 4) + ".com"
    response = client.post(SIGNUP, json={"email": email, "password": "long enough"})
    assert_field_error(response, "email")


# --- tokens -----------------------------------------------------------------------------------

def test_missing_authorization_is_401_authorization_required(client):
    assert_error(client.get(ME), 401, "authorization_required")


def test_missing_authorization_on_write_is_401_authorization_required(client):
    assert_error(client.post(POSTS, json={"body": "hello"}), 401, "authorization_required")


def test_non_bearer_authorization_is_401_authorization_required(client):
    assert_error(client.get(ME, headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401, "authorization_required")


@pytest.mark.parametrize("token", ["abc", "a.b.c", "Bearer", "....", "eyJhbGciOiJub25lIn0.e30."])
def test_garbage_token_is_401_invalid_token(client, token):
    assert_error(client.get(ME, headers=bearer(token)), 401, "invalid_token")


def test_tampered_jwt_signature_is_401_invalid_token(client, sign_up):
    _, headers = sign_up()
    token = headers["Authorization"].removeprefix("Bearer ")
    head, payload, signature = token.split(".")
    tampered = ".".join([head, payload, change_char(signature, len(signature) // 2)])
    assert client.get(ME, headers=headers).status_code == 200
    assert_error(client.get(ME, headers=bearer(tampered)), 401, "invalid_token")


def test_tampered_jwt_payload_is_401_invalid_token(client, sign_up):
    _, headers = sign_up()
    token = headers["Authorization"].removeprefix("Bearer ")
    head, payload, signature = token.split(".")
    tampered = ".".join([head, change_char(payload, 10), signature])
    assert_error(client.get(ME, headers=bearer(tampered)), 401, "invalid_token")


def test_jwt_signed_with_another_key_is_401_invalid_token(client, sign_up):
    _, headers = sign_up()
    token = headers["Authorization"].removeprefix("Bearer ")
    claims = pyjwt.decode(token, options={"verify_signature": False})
    forged = pyjwt.encode(claims, "another key entirely, long enough for HS256 " * 2, algorithm="HS256")
    assert_error(client.get(ME, headers=bearer(forged)), 401, "invalid_token")


def test_unsigned_jwt_is_401_invalid_token(client, sign_up):
    _, headers = sign_up()
    token = headers["Authorization"].removeprefix("Bearer ")
    claims = pyjwt.decode(token, options={"verify_signature": False})
    unsigned = pyjwt.encode(claims, None, algorithm="none")
    assert_error(client.get(ME, headers=bearer(unsigned)), 401, "invalid_token")


def test_expired_jwt_is_401_token_expired(client, in_app, user_id):
    token = in_app(create_access_token, str(user_id), expires_delta=timedelta(seconds=-60))
    assert_error(client.get(ME, headers=bearer(token)), 401, "token_expired")


def test_refresh_token_used_as_access_token_is_401_invalid_token(client):
    response = client.post(SIGNUP, json={"email": "a@example.com", "password": "long enough"})
    assert response.status_code == 201
    refresh = response.json["refresh_token"]
    assert_error(client.get(ME, headers=bearer(refresh)), 401, "invalid_token")


def test_access_token_used_as_refresh_token_is_401_invalid_token(client, sign_up):
    _, headers = sign_up()
    assert_error(client.post("/api/v1/auth/refresh", headers=headers), 401, "invalid_token")


def test_revoked_token_is_401_token_revoked(client, sign_up):
    _, headers = sign_up()
    assert client.get(ME, headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", json={}, headers=headers).status_code == 204
    assert_error(client.get(ME, headers=headers), 401, "token_revoked")


def test_revoked_refresh_token_is_401_token_revoked(client):
    session = client.post(SIGNUP, json={"email": "a@example.com", "password": "long enough"}).json
    headers = bearer(session["access_token"])
    logout = client.post("/api/v1/auth/logout", json={"refresh_token": session["refresh_token"]}, headers=headers)
    assert logout.status_code == 204
    refresh = client.post("/api/v1/auth/refresh", headers=bearer(session["refresh_token"]))
    assert_error(refresh, 401, "token_revoked")


def test_logout_with_garbage_refresh_token_is_422_naming_refresh_token(client, sign_up):
    _, headers = sign_up()
    response = client.post("/api/v1/auth/logout", json={"refresh_token": "garbage"}, headers=headers)
    assert_field_error(response, "refresh_token")


def test_token_of_deleted_user_is_401_invalid_token(client, in_app, user_id, headers):
    def delete_user():
        db.session.delete(db.session.get(User, user_id))
        db.session.commit()

    assert client.get(ME, headers=headers).status_code == 200
    in_app(delete_user)
    assert_error(client.get(ME, headers=headers), 401, "invalid_token")
