"""Email signup, login, refresh and logout through the API."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.users.models import User
from tests.accounts import PASSWORD, bearer
from tests.conftest import build_app
from tasks.registry import task_of


def post_json(client, path, body, headers=None):
    return client.post(path, json=body, headers=headers or {})


def test_signup_returns_profile_and_tokens(client):
    response = post_json(client, "/api/v1/auth/signup",
                         {"email": "ann@example.com", "password": PASSWORD, "name": "Ann"})
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"user", "access_token", "refresh_token"}
    user = body["user"]
    assert user["email"] == "ann@example.com"
    assert user["name"] == "Ann"
    assert user["points"] == 0 and user["post_count"] == 0
    assert user["referrals"] == [] and user["referral_count"] == 0
    assert re.fullmatch(r"[0-9A-Z]{6}", user["invite_code"])


def test_signup_without_provider_keys_skips_verification_and_leaves_the_address_unconfirmed(client):
    user = post_json(client, "/api/v1/auth/signup", {"email": "a@example.com", "password": PASSWORD}).json["user"]
    assert user["email_status"] == "skipped"
    assert (user["email_confirmed"], user["enrichment_status"]) == (False, "unconfirmed")


def test_signup_queues_verification_and_the_confirmation_code_but_no_enrichment(tmp_path, monkeypatch):
    queued = []
    for module in ("app.profile_checks.services", "app.mail.services"):
        monkeypatch.setattr(f"{module}.enqueue",
                            lambda function, *args: queued.append((task_of(function).name, args[:2])) or True)
    app = build_app(tmp_path, HUNTER_API_KEY="h-key", ENRICHMENT_PROVIDER="hunter")
    with app.app_context():
        db.create_all()
    response = post_json(app.test_client(), "/api/v1/auth/signup", {"email": "a@example.com", "password": PASSWORD})
    user = response.json["user"]
    assert (user["email_status"], user["enrichment_status"]) == ("pending", "unconfirmed")
    # Enrichment waits for the address to be proven (SPEC 4): the code's mail carries only a sealed code.
    assert queued == [("tasks.verify_email", (user["id"], "a@example.com")),
                      ("tasks.send_mail_code", ("a@example.com", "confirm"))]


def test_signup_lowercases_the_domain_only(client):
    user = post_json(client, "/api/v1/auth/signup", {"email": " Ann.Lee@EXAMPLE.Com ", "password": PASSWORD}).json["user"]
    assert user["email"] == "Ann.Lee@example.com"


@pytest.mark.parametrize("taken", ["ann@example.com", "ANN@example.com", "ann@EXAMPLE.COM"])
def test_signup_with_a_taken_email_in_any_case_is_409_email_taken(client, sign_up, taken):
    sign_up(email="ann@example.com")
    response = post_json(client, "/api/v1/auth/signup", {"email": taken, "password": PASSWORD})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "email_taken"


@pytest.mark.parametrize("password", ["short", "x" * 129])
def test_signup_password_must_be_8_to_128_characters(client, password):
    response = post_json(client, "/api/v1/auth/signup", {"email": "a@example.com", "password": password})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert "password" in response.json["error"]["fields"]


@pytest.mark.parametrize("body, field", [
    ({"email": "not-an-email", "password": PASSWORD}, "email"),
    ({"password": PASSWORD}, "email"),
    ({"email": "a@example.com"}, "password"),
    ({"email": "a@example.com", "password": PASSWORD, "name": ""}, "name"),
])
def test_signup_rejects_missing_or_invalid_fields(client, body, field):
    response = post_json(client, "/api/v1/auth/signup", body)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_password_is_stored_only_as_an_argon2id_hash(client, app):
    post_json(client, "/api/v1/auth/signup", {"email": "a@example.com", "password": PASSWORD})
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_login_returns_tokens_for_the_right_password(client, sign_up):
    sign_up(email="ann@example.com")
    response = post_json(client, "/api/v1/auth/login", {"email": "ANN@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json["user"]["email"] == "ann@example.com"
    me = client.get("/api/v1/users/me", headers=bearer(response.json["access_token"]))
    assert me.status_code == 200


@pytest.mark.parametrize("email, password", [
    ("ann@example.com", "wrong password"),
    ("nobody@example.com", PASSWORD),
])
def test_login_failure_is_one_answer_for_unknown_email_and_wrong_password(client, sign_up, email, password):
    sign_up(email="ann@example.com")
    response = post_json(client, "/api/v1/auth/login", {"email": email, "password": password})
    assert response.status_code == 401
    error = dict(response.json["error"])
    assert error.pop("request_id") == response.headers["X-Request-ID"]
    assert error == {"status": 401, "code": "invalid_credentials", "message": "The email or password is wrong."}


def test_refresh_gives_a_working_access_token_and_the_next_refresh_token(client):
    tokens = post_json(client, "/api/v1/auth/signup", {"email": "a@example.com", "password": PASSWORD}).json
    response = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 200
    assert set(response.json) == {"access_token", "refresh_token"}
    assert response.json["refresh_token"] != tokens["refresh_token"]
    me = client.get("/api/v1/users/me", headers=bearer(response.json["access_token"]))
    assert me.json["email"] == "a@example.com"


def test_refresh_with_an_access_token_is_401_invalid_token(client, sign_up):
    _, headers = sign_up()
    response = client.post("/api/v1/auth/refresh", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"


def test_logout_revokes_the_access_token(client, sign_up):
    _, headers = sign_up()
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    response = client.get("/api/v1/users/me", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_revoked"


def test_logout_revokes_the_refresh_token_given_in_the_body(client):
    tokens = post_json(client, "/api/v1/auth/signup", {"email": "a@example.com", "password": PASSWORD}).json
    access = bearer(tokens["access_token"])
    response = post_json(client, "/api/v1/auth/logout", {"refresh_token": tokens["refresh_token"]}, access)
    assert response.status_code == 204
    refreshed = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert refreshed.status_code == 401
    assert refreshed.json["error"]["code"] == "token_revoked"


def test_logout_with_someone_elses_refresh_token_is_422_and_revokes_nothing(client, sign_up):
    _, headers = sign_up()
    other = post_json(client, "/api/v1/auth/signup", {"email": "b@example.com", "password": PASSWORD}).json
    response = post_json(client, "/api/v1/auth/logout", {"refresh_token": other["refresh_token"]}, headers)
    assert response.status_code == 422
    assert "refresh_token" in response.json["error"]["fields"]
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200


def test_logout_with_a_garbage_refresh_token_is_422(client, sign_up):
    _, headers = sign_up()
    response = post_json(client, "/api/v1/auth/logout", {"refresh_token": "not.a.jwt"}, headers)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"


def test_logout_with_the_refresh_token_itself_revokes_it(client):
    tokens = post_json(client, "/api/v1/auth/signup", {"email": "a@example.com", "password": PASSWORD}).json
    refresh = bearer(tokens["refresh_token"])
    assert client.post("/api/v1/auth/logout", headers=refresh).status_code == 204
    assert client.post("/api/v1/auth/refresh", headers=refresh).json["error"]["code"] == "token_revoked"


def test_a_token_of_a_deleted_user_is_401(client, app, sign_up):
    user, headers = sign_up()
    with app.app_context():
        db.session.delete(db.session.get(User, user["id"]))
        db.session.commit()
    response = client.get("/api/v1/users/me", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"
