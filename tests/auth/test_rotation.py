"""Sessions that end: refresh tokens rotate, a spent one presented again ends its session, logout ends its own."""

import threading

from flask_jwt_extended import decode_token

from app.auth import services
from app.extensions import db
from app.users.models import User
from tests.accounts import PASSWORD, bearer, sign_up_answer

NEW_PASSWORD = "a fresh passphrase"
ME = "/api/v1/users/me"
REFRESH = "/api/v1/auth/refresh"
ANN = "ann@example.com"


def log_in(client, email=ANN, password=PASSWORD) -> dict:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.json
    return response.json


def refresh(client, refresh_token: str):
    return client.post(REFRESH, headers=bearer(refresh_token))


def works(client, tokens: dict) -> tuple[bool, bool]:
    """Whether the access token still reads the profile, and the refresh token still refreshes (spending it)."""
    return (client.get(ME, headers=bearer(tokens["access_token"])).status_code == 200,
            refresh(client, tokens["refresh_token"]).status_code == 200)


def assert_revoked(response) -> None:
    assert (response.status_code, (response.json or {}).get("error", {}).get("code")) == (401, "token_revoked"), \
        response.json


def test_refresh_returns_a_new_pair_that_works(client):
    first = sign_up_answer(client, ANN)
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200
    assert client.get(ME, headers=bearer(second.json["access_token"])).status_code == 200
    assert refresh(client, second.json["refresh_token"]).status_code == 200


def test_a_refresh_token_is_spent_by_its_first_use(client):
    session = sign_up_answer(client, ANN)
    assert refresh(client, session["refresh_token"]).status_code == 200
    assert_revoked(refresh(client, session["refresh_token"]))


def test_a_spent_refresh_token_presented_again_ends_every_token_of_its_session(client):
    login = log_in(client, sign_up_answer(client, ANN)["user"]["email"])
    second = refresh(client, login["refresh_token"]).json
    third = refresh(client, second["refresh_token"]).json

    assert_revoked(refresh(client, second["refresh_token"]))  # a thief replaying a stolen, already used token

    for tokens in (login, second, third):
        assert_revoked(client.get(ME, headers=bearer(tokens["access_token"])))
    assert_revoked(refresh(client, third["refresh_token"]))  # the latest one, never used, is gone too


def test_reuse_ends_only_its_own_session_and_the_users_other_sessions_survive(client):
    phone = sign_up_answer(client, ANN)
    laptop = log_in(client)
    stolen = laptop["refresh_token"]
    assert refresh(client, stolen).status_code == 200
    assert_revoked(refresh(client, stolen))

    assert works(client, phone) == (True, True)
    bob = sign_up_answer(client, "bob@example.com")
    assert works(client, bob) == (True, True)


def test_a_refresh_racing_a_password_change_mints_tokens_the_change_refuses(app, client):
    """The refresh checked its token before the change, and mints after it: its tokens keep the old generation."""
    session = sign_up_answer(client, ANN)
    with app.app_context():
        presented = decode_token(session["refresh_token"])
    change = client.patch(ME, json={"password": NEW_PASSWORD, "current_password": PASSWORD},
                          headers=bearer(session["access_token"]))
    assert change.status_code == 200
    with app.app_context():
        minted = services.refresh(db.session.get(User, presented["sub"]), presented)
    assert_revoked(client.get(ME, headers=bearer(minted["access_token"])))
    assert_revoked(refresh(client, minted["refresh_token"]))
    assert works(client, change.json) == (True, True)


def test_a_login_that_checked_the_old_password_while_it_changed_gets_refused_tokens(app, client, monkeypatch):
    """The change commits and answers between the login's reading of the old hash and its minting."""
    session = sign_up_answer(client, ANN)
    verify_password, changes = services.verify_password, []

    def change_while_verifying(password_hash, password):
        valid = verify_password(password_hash, password)
        if not changes:
            changer = threading.Thread(target=lambda: changes.append(app.test_client().patch(
                ME, json={"password": NEW_PASSWORD, "current_password": PASSWORD},
                headers=bearer(session["access_token"]))))
            changer.start()
            changer.join()
        return valid

    monkeypatch.setattr(services, "verify_password", change_while_verifying)
    raced = client.post("/api/v1/auth/login", json={"email": ANN, "password": PASSWORD})

    assert changes[0].status_code == 200, changes[0].json
    assert raced.status_code == 200  # the old password was right when it was checked
    assert_revoked(client.get(ME, headers=bearer(raced.json["access_token"])))
    assert_revoked(refresh(client, raced.json["refresh_token"]))
    monkeypatch.undo()
    assert works(client, changes[0].json) == (True, True)
    assert client.post("/api/v1/auth/login", json={"email": ANN, "password": PASSWORD}).status_code == 401


def test_logout_ends_the_session_of_the_presented_tokens(client):
    session = log_in(client, sign_up_answer(client, ANN)["user"]["email"])
    refreshed = refresh(client, session["refresh_token"]).json
    other = log_in(client)

    logout = client.post("/api/v1/auth/logout", json={"refresh_token": refreshed["refresh_token"]},
                         headers=bearer(refreshed["access_token"]))
    assert logout.status_code == 204

    assert_revoked(client.get(ME, headers=bearer(refreshed["access_token"])))
    assert_revoked(client.get(ME, headers=bearer(session["access_token"])))  # an earlier token of the same session
    assert_revoked(refresh(client, refreshed["refresh_token"]))
    assert works(client, other) == (True, True)


def test_a_refresh_token_of_an_ended_session_does_not_mint(client):
    session = sign_up_answer(client, ANN)
    assert client.post("/api/v1/auth/logout", json={}, headers=bearer(session["access_token"])).status_code == 204
    assert_revoked(refresh(client, session["refresh_token"]))


def test_a_login_upgrading_the_old_hash_while_the_password_changes_does_not_bring_the_old_password_back(
        app, client, monkeypatch):
    session = sign_up_answer(client, ANN)
    verify_password, changes = services.verify_password, []

    def change_while_verifying(password_hash, password):
        valid = verify_password(password_hash, password)
        if not changes:
            changes.append(app.test_client().patch(ME, json={"password": NEW_PASSWORD, "current_password": PASSWORD},
                                                   headers=bearer(session["access_token"])))
        return valid

    monkeypatch.setattr(services, "verify_password", change_while_verifying)
    monkeypatch.setattr(services, "needs_rehash", lambda password_hash: True)  # older cost parameters
    assert client.post("/api/v1/auth/login", json={"email": ANN, "password": PASSWORD}).status_code == 200
    monkeypatch.undo()

    assert changes[0].status_code == 200, changes[0].json
    assert client.post("/api/v1/auth/login", json={"email": ANN, "password": PASSWORD}).status_code == 401
    assert log_in(client, password=NEW_PASSWORD)["user"]["email"] == ANN
