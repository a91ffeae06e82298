"""Password hashing, and the list of commonly used passwords refused when one is chosen."""

import pytest
from sqlalchemy import select

from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.extensions import db
from app.users.models import User
from tests.accounts import PASSWORD


def test_a_hash_verifies_its_password_only(ctx):
    stored = hash_password(PASSWORD)
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, "correct horsE")


def test_no_hash_never_verifies(ctx):
    assert not verify_password(None, "a password nobody has")


def test_a_corrupt_hash_fails_instead_of_raising(ctx):
    assert not verify_password("$argon2id$garbage", PASSWORD)


def test_a_hash_with_other_parameters_needs_rehash(app):
    with app.app_context():
        stored = hash_password(PASSWORD)
        assert not needs_rehash(stored)
    app.config["PASSWORD_HASH_TIME_COST"] += 1
    with app.app_context():
        assert needs_rehash(stored)
        assert verify_password(stored, PASSWORD)


def test_login_upgrades_an_outdated_hash(app, client, sign_up):
    sign_up(email="ann@example.com")
    app.config["PASSWORD_HASH_TIME_COST"] += 1
    response = client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD})
    assert response.status_code == 200
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash))
        assert not needs_rehash(stored)


@pytest.mark.parametrize("common", ["password", "12345678", "iloveyou1", "PassWord1", "qwertyuiop"])
def test_signup_refuses_a_commonly_used_password(client, common):
    response = client.post("/api/v1/auth/signup", json={"email": "ann@example.com", "password": common})
    assert response.status_code == 422
    assert "commonly used" in response.json["error"]["fields"]["password"][0]


def test_a_password_change_refuses_a_commonly_used_password(client, sign_up):
    _, headers = sign_up(password=PASSWORD)
    response = client.patch("/api/v1/users/me", json={"password": "password1", "current_password": PASSWORD},
                            headers=headers)
    assert response.status_code == 422
    assert list(response.json["error"]["fields"]) == ["password"]


def test_an_uncommon_password_is_accepted(client):
    response = client.post("/api/v1/auth/signup", json={"email": "ann@example.com", "password": "plum tractor sings"})
    assert response.status_code == 201
