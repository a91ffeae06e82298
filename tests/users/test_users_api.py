"""Profiles: mine, changes to it, and public ones."""

from datetime import datetime, timedelta, timezone
from itertools import cycle

from app.auth.tokens import issue_tokens
from sqlalchemy import select

from app.extensions import db
from app.users.models import User
from tests.accounts import PASSWORD, bearer
from tests.conftest import build_app
from tests.factories import PostFactory, UserFactory
from tasks.registry import task_of

PROFILE_FIELDS = {
    "id", "email", "phone", "name", "email_confirmed", "email_status", "enrichment_status", "enrichment", "invite_code",
    "activated_invite_code", "referred_by", "referrals", "referral_count", "points", "post_count", "created_at",
}


def test_me_shows_every_profile_field(client, sign_up):
    user, headers = sign_up(email="ann@example.com", name="Ann")
    response = client.get("/api/v1/users/me", headers=headers)
    assert response.status_code == 200
    assert set(response.json) == PROFILE_FIELDS
    assert response.json["id"] == user["id"]
    assert response.json["created_at"].endswith("+00:00")


def test_me_needs_a_token(client):
    response = client.get("/api/v1/users/me")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "authorization_required"


def test_me_counts_my_posts(client, app, sign_up):
    user, headers = sign_up()
    with app.app_context():
        author = db.session.get(User, user["id"])
        PostFactory.create_batch(3, author=author)
    assert client.get("/api/v1/users/me", headers=headers).json["post_count"] == 3


def test_me_lists_referrals_newest_first(client, app, sign_up):
    user, headers = sign_up()
    with app.app_context():
        me = db.session.get(User, user["id"])
        start = datetime(2026, 1, 1, tzinfo=timezone.utc)
        UserFactory(phone="+15550000001", referred_by_id=me.id, referred_at=start)
        UserFactory(email="late@example.com", phone=None, referred_by_id=me.id, referred_at=start + timedelta(hours=1))
    profile = client.get("/api/v1/users/me", headers=headers).json
    assert profile["referrals"] == ["late@example.com", "+15550000001"]
    assert profile["referral_count"] == 2


def test_patch_me_changes_the_name(client, sign_up):
    _, headers = sign_up(name="Ann")
    response = client.patch("/api/v1/users/me", json={"name": "  Ann Lee "}, headers=headers)
    assert response.status_code == 200
    assert response.json["name"] == "Ann Lee"


def test_patch_me_can_clear_the_name(client, sign_up):
    _, headers = sign_up(name="Ann")
    assert client.patch("/api/v1/users/me", json={"name": None}, headers=headers).json["name"] is None


def test_patch_me_with_nothing_to_change_is_422(client, sign_up):
    _, headers = sign_up()
    response = client.patch("/api/v1/users/me", json={}, headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"


def test_patch_me_to_a_taken_email_is_409(client, sign_up):
    sign_up(email="taken@example.com")
    _, headers = sign_up(email="mine@example.com")
    response = client.patch("/api/v1/users/me", json={"email": "TAKEN@example.com", "current_password": PASSWORD},
                            headers=headers)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "email_taken"


def test_patch_me_to_my_own_email_in_another_case_keeps_the_checks(client, sign_up):
    _, headers = sign_up(email="mine@example.com")
    response = client.patch("/api/v1/users/me", json={"email": "Mine@Example.com", "current_password": PASSWORD},
                            headers=headers)
    assert response.status_code == 200
    assert response.json["email"] == "Mine@example.com"


def test_a_new_email_is_verified_again(tmp_path, monkeypatch):
    queued = []
    monkeypatch.setattr("app.profile_checks.services.enqueue",
                        lambda function, *args: queued.append((task_of(function).name, args)) or True)
    app = build_app(tmp_path, HUNTER_API_KEY="h-key")
    with app.app_context():
        db.create_all()
        user = UserFactory(email_status="invalid", enrichment_status="skipped")
        user_id, token = user.id, issue_tokens(user.id)["access_token"]
    client = app.test_client()
    response = client.patch("/api/v1/users/me", json={"email": "new@example.com", "current_password": PASSWORD},
                            headers=bearer(token))
    assert response.status_code == 200
    assert response.json["email_status"] == "pending"
    assert queued == [("tasks.verify_email", (user_id, "new@example.com"))]


def test_public_profile_hides_email_and_phone(client, app, sign_up):
    user, _ = sign_up(email="ann@example.com", name="Ann")
    response = client.get(f"/api/v1/users/{user['id']}")
    assert response.status_code == 200
    assert response.json["name"] == "Ann"
    assert "email" not in response.json and "phone" not in response.json
    assert set(response.json) == {"id", "name", "points", "post_count", "referral_count", "created_at"}


def test_public_profile_of_an_unknown_user_is_404(client):
    response = client.get("/api/v1/users/12345")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "user_not_found"


def test_signup_retries_an_invite_code_collision(client, sign_up, monkeypatch):
    first, _ = sign_up()
    codes = cycle([first["invite_code"], first["invite_code"], "ZZZ999"])
    monkeypatch.setattr("app.users.services.new_invite_code", lambda: next(codes))
    second, _ = sign_up()
    assert second["invite_code"] == "ZZZ999"


def test_undeliverable_email_user_may_read_but_not_write(client, app, auth_headers):
    with app.app_context():
        blocked = UserFactory(email_status="invalid")
        post = PostFactory()
        headers = auth_headers(blocked.id)
        post_id = post.id
    assert client.get("/api/v1/posts", headers=headers).status_code == 200
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    for method, path, body in [
        ("post", "/api/v1/posts", {"body": "hi"}),
        ("post", f"/api/v1/posts/{post_id}/like", None),
        ("delete", f"/api/v1/posts/{post_id}/like", None),
    ]:
        response = getattr(client, method)(path, json=body, headers=headers)
        assert response.status_code == 403, (method, path)
        assert response.json["error"]["code"] == "email_undeliverable"
    with app.app_context():
        assert db.session.scalar(select(User.email_status).where(User.id == blocked.id)) == "invalid"
