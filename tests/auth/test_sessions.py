"""A new password or email ends every session issued before; malformed subjects are refused."""

from flask_jwt_extended import create_access_token

from tests.accounts import PASSWORD, bearer, sign_up_answer, sign_up_on


def sign_up_and_log_in_twice(client, email="ann@example.com"):
    signed_up = sign_up_answer(client, email)
    other = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json
    return signed_up, other


def test_a_password_change_ends_every_earlier_session(client):
    mine, other_device = sign_up_and_log_in_twice(client)
    change = client.patch("/api/v1/users/me", json={"password": "a fresh passphrase", "current_password": PASSWORD},
                          headers=bearer(mine["access_token"]))
    assert change.status_code == 200
    for session in (mine, other_device):
        profile = client.get("/api/v1/users/me", headers=bearer(session["access_token"]))
        refreshed = client.post("/api/v1/auth/refresh", headers=bearer(session["refresh_token"]))
        assert (profile.status_code, profile.json["error"]["code"]) == (401, "token_revoked")
        assert (refreshed.status_code, refreshed.json["error"]["code"]) == (401, "token_revoked")


def test_the_answer_to_a_password_change_carries_fresh_working_tokens(client):
    mine, _ = sign_up_and_log_in_twice(client)
    change = client.patch("/api/v1/users/me", json={"password": "a fresh passphrase", "current_password": PASSWORD},
                          headers=bearer(mine["access_token"])).json
    assert change["email"] == "ann@example.com"
    assert client.get("/api/v1/users/me", headers=bearer(change["access_token"])).status_code == 200
    refreshed = client.post("/api/v1/auth/refresh", headers=bearer(change["refresh_token"]))
    assert refreshed.status_code == 200
    assert client.get("/api/v1/users/me", headers=bearer(refreshed.json["access_token"])).status_code == 200


def test_an_email_change_ends_every_earlier_session(client):
    mine, other_device = sign_up_and_log_in_twice(client)
    change = client.patch("/api/v1/users/me", json={"email": "ann.new@example.com", "current_password": PASSWORD},
                          headers=bearer(mine["access_token"]))
    assert change.status_code == 200 and "access_token" in change.json
    assert client.get("/api/v1/users/me", headers=bearer(other_device["access_token"])).status_code == 401
    assert client.post("/api/v1/auth/refresh", headers=bearer(other_device["refresh_token"])).status_code == 401


def test_a_name_change_keeps_sessions_and_issues_no_tokens(client):
    mine, other_device = sign_up_and_log_in_twice(client)
    change = client.patch("/api/v1/users/me", json={"name": "Ann"}, headers=bearer(mine["access_token"]))
    assert change.status_code == 200 and "access_token" not in change.json
    assert client.get("/api/v1/users/me", headers=bearer(other_device["access_token"])).status_code == 200


def test_a_change_of_case_in_the_email_keeps_sessions(client):
    mine, other_device = sign_up_and_log_in_twice(client)
    change = client.patch("/api/v1/users/me", json={"email": "ann@EXAMPLE.com", "current_password": PASSWORD},
                          headers=bearer(mine["access_token"]))
    assert change.status_code == 200 and "access_token" not in change.json
    assert client.get("/api/v1/users/me", headers=bearer(other_device["access_token"])).status_code == 200


def test_a_refused_password_change_ends_no_session(client):
    mine, other_device = sign_up_and_log_in_twice(client)
    refused = client.patch("/api/v1/users/me", json={"password": "a fresh passphrase", "current_password": "wrong!"},
                           headers=bearer(mine["access_token"]))
    assert refused.status_code == 422
    assert client.get("/api/v1/users/me", headers=bearer(other_device["access_token"])).status_code == 200


def test_ending_one_users_sessions_leaves_other_users_alone(client):
    mine, _ = sign_up_and_log_in_twice(client, "ann@example.com")
    bob, _ = sign_up_and_log_in_twice(client, "bob@example.com")
    client.patch("/api/v1/users/me", json={"password": "a fresh passphrase", "current_password": PASSWORD},
                 headers=bearer(mine["access_token"]))
    assert client.get("/api/v1/users/me", headers=bearer(bob["access_token"])).status_code == 200


def test_logging_in_with_the_new_password_works_and_the_old_one_does_not(client):
    mine, _ = sign_up_and_log_in_twice(client)
    client.patch("/api/v1/users/me", json={"password": "a fresh passphrase", "current_password": PASSWORD},
                 headers=bearer(mine["access_token"]))
    old = client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD})
    new = client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": "a fresh passphrase"})
    assert (old.status_code, new.status_code) == (401, 200)


def test_a_signed_token_whose_subject_is_not_an_id_is_401(app, client):
    for subject in ("not-a-number", "1.5", "-3", "99999999999999999999", "١"):
        with app.app_context():
            token = create_access_token(subject)
        response = client.get("/api/v1/users/me", headers=bearer(token))
        assert (response.status_code, response.json["error"]["code"]) == (401, "invalid_token"), subject


def test_a_remembered_token_is_refused_once_it_expires(app, client, sign_up):
    import time
    from datetime import timedelta

    user, _ = sign_up()
    with app.app_context():
        token = create_access_token(str(user["id"]), expires_delta=timedelta(seconds=1), additional_claims={"gen": 0})
    assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 200  # verified, remembered
    time.sleep(1.2)
    expired = client.get("/api/v1/users/me", headers=bearer(token))
    assert (expired.status_code, expired.json["error"]["code"]) == (401, "token_expired")


def test_a_token_remembered_by_one_deployment_is_refused_by_another_with_other_keys(make_app):
    first, second = make_app(JWT_SECRET_KEY="a" * 40), make_app(JWT_SECRET_KEY="b" * 40)
    _, headers = sign_up_on(first.test_client())
    assert first.test_client().get("/api/v1/users/me", headers=headers).status_code == 200
    refused = second.test_client().get("/api/v1/users/me", headers=headers)
    assert (refused.status_code, refused.json["error"]["code"]) == (401, "invalid_token")


def test_a_remembered_token_is_refused_at_once_after_logout(client):
    session = client.post("/api/v1/auth/signup", json={"email": "ann@example.com", "password": PASSWORD}).json
    assert client.get("/api/v1/users/me", headers=bearer(session["access_token"])).status_code == 200
    assert client.post("/api/v1/auth/logout", json={}, headers=bearer(session["access_token"])).status_code == 204
    after = client.get("/api/v1/users/me", headers=bearer(session["access_token"]))
    assert (after.status_code, after.json["error"]["code"]) == (401, "token_revoked")


def test_a_token_minted_before_session_generations_is_refused(app, client, sign_up):
    """Sessions ended before an upgrade stay ended: a token carrying no generation is refused (log in again)."""
    user, headers = sign_up()
    with app.app_context():
        old_style = create_access_token(str(user["id"]))
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    refused = client.get("/api/v1/users/me", headers=bearer(old_style))
    assert (refused.status_code, refused.json["error"]["code"]) == (401, "token_revoked")
