"""Password hashing rules."""

from sqlalchemy import select

from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.extensions import db
from app.users.models import User


def test_a_hash_verifies_its_password_only(ctx):
    stored = hash_password("correct horse")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "correct horsE")


def test_no_hash_never_verifies(ctx):
    assert not verify_password(None, "a password nobody has")


def test_a_corrupt_hash_fails_instead_of_raising(ctx):
    assert not verify_password("$argon2id$garbage", "correct horse")


def test_a_hash_with_other_parameters_needs_rehash(app):
    with app.app_context():
        stored = hash_password("correct horse")
        assert not needs_rehash(stored)
    app.config["PASSWORD_HASH_TIME_COST"] += 1
    with app.app_context():
        assert needs_rehash(stored)
        assert verify_password(stored, "correct horse")


def test_login_upgrades_an_outdated_hash(app, client, signup):
    signup(email="ann@example.com")
    app.config["PASSWORD_HASH_TIME_COST"] += 1
    response = client.post("/api/v1/auth/login", json={"email": "ann@example.com", "password": "correct horse"})
    assert response.status_code == 200
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash))
        assert not needs_rehash(stored)
