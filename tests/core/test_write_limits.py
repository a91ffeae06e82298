"""The write limits of SPEC 3 through the API: per user for posts, likes, messages and conversations, per
client address for signups; 429 ``too_many_requests`` with ``Retry-After``; all off with RATELIMIT_ENABLED=false."""

import time

import pytest
from sqlalchemy import func, select

from app.auth.tokens import issue_tokens
from app.chat.models import Conversation, Message
from app.config import ConfigError, build_config
from app.extensions import db
from app.users.models import User
from tests.accounts import PASSWORD, bearer
from tests.factories import PostFactory, UserFactory

CONVERSATIONS = "/api/v1/conversations"


def people(app, count: int) -> list[int]:
    with app.app_context():
        return [UserFactory().id for _ in range(count)]


def token(app, user_id: int) -> str:
    with app.app_context():
        return issue_tokens(user_id)["access_token"]


def assert_too_many(response, max_wait: int) -> None:
    assert response.status_code == 429, response.json
    error = response.json["error"]
    assert error["code"] == "too_many_requests"
    assert 1 <= error["retry_after"] <= max_wait
    assert response.headers["Retry-After"] == str(error["retry_after"])


def test_a_burst_of_messages_earns_at_most_messages_per_minute_points(client, app, auth_headers):
    """The issue's attack: 400 messages in a burst earned 400 points; now the 61st is refused."""
    farmer, other = people(app, 2)
    headers = auth_headers(farmer)
    conversation = client.post(CONVERSATIONS, json={"title": "farm", "participant_ids": [other]}, headers=headers)
    path = f"{CONVERSATIONS}/{conversation.json['id']}/messages"
    answers = [client.post(path, json={"body": f"m{n}"}, headers=headers) for n in range(400)]
    assert [answer.status_code for answer in answers] == [201] * 60 + [429] * 340
    assert_too_many(answers[-1], 60)
    assert "at most 60 per minute" in answers[-1].json["error"]["message"]
    with app.app_context():
        assert db.session.get(User, farmer).points == 60
        assert db.session.scalar(select(func.count()).select_from(Message).where(Message.kind == "reward")) == 6


def test_thirty_conversations_of_fifty_strangers_then_429(client, app, auth_headers):
    """The issue's other attack: conversations pulling in 50 arbitrary users each, as fast as they could be sent."""
    creator, *strangers = people(app, 51)
    headers = auth_headers(creator)
    answers = [client.post(CONVERSATIONS, json={"title": f"spam {n}", "participant_ids": strangers}, headers=headers)
               for n in range(31)]
    assert [answer.status_code for answer in answers] == [201] * 30 + [429]
    assert_too_many(answers[-1], 3600)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == 30


def test_refused_conversations_count_too(client, app, auth_headers):
    """Probing for user ids costs what creating conversations costs."""
    creator, other = people(app, 2)
    headers = auth_headers(creator)
    statuses = [client.post(CONVERSATIONS, json={"title": "probe", "participant_ids": [424242 + n]},
                            headers=headers).status_code for n in range(30)]
    assert statuses == [422] * 30
    response = client.post(CONVERSATIONS, json={"title": "real", "participant_ids": [other]}, headers=headers)
    assert_too_many(response, 3600)


def test_posts_are_limited_per_user(client, app, auth_headers):
    ann, bob = people(app, 2)
    statuses = [client.post("/api/v1/posts", json={"body": f"post {n}"}, headers=auth_headers(ann)).status_code
                for n in range(31)]
    assert statuses == [201] * 30 + [429]
    # Someone else's window is their own.
    assert client.post("/api/v1/posts", json={"body": "mine"}, headers=auth_headers(bob)).status_code == 201


def test_likes_are_limited_per_user(make_app):
    app = make_app(LIKES_PER_MINUTE=3)
    client = app.test_client()
    with app.app_context():
        liker = UserFactory().id
        posts = [PostFactory().id for _ in range(4)]
    headers = bearer(token(app, liker))
    statuses = [client.post(f"/api/v1/posts/{post_id}/like", headers=headers).status_code for post_id in posts]
    assert statuses == [201, 201, 201, 429]
    assert_too_many(client.post(f"/api/v1/posts/{posts[3]}/like", headers=headers), 60)


def test_each_limit_is_its_own_setting(make_app):
    app = make_app(POSTS_PER_MINUTE=2, MESSAGES_PER_MINUTE=1)
    client = app.test_client()
    with app.app_context():
        ann, bob = UserFactory().id, UserFactory().id
    headers = bearer(token(app, ann))
    conversation = client.post(CONVERSATIONS, json={"title": "t", "participant_ids": [bob]}, headers=headers).json
    path = f"{CONVERSATIONS}/{conversation['id']}/messages"
    assert [client.post(path, json={"body": "x"}, headers=headers).status_code for _ in range(2)] == [201, 429]
    assert [client.post("/api/v1/posts", json={"body": "x"}, headers=headers).status_code
            for _ in range(3)] == [201, 201, 429]


def test_the_window_slides(make_app, monkeypatch):
    app = make_app(POSTS_PER_MINUTE=1)
    client = app.test_client()
    with app.app_context():
        ann = UserFactory().id
    headers = bearer(token(app, ann))
    assert client.post("/api/v1/posts", json={"body": "one"}, headers=headers).status_code == 201
    assert_too_many(client.post("/api/v1/posts", json={"body": "two"}, headers=headers), 60)
    later = time.time() + 61
    monkeypatch.setattr("app.core.limits.time.time", lambda: later)
    assert client.post("/api/v1/posts", json={"body": "three"}, headers=headers).status_code == 201


def test_signups_are_limited_per_client_address(client):
    def sign_up_from(n, address="198.51.100.7", email=None):
        return client.post("/api/v1/auth/signup", json={"email": email or f"new{n}@example.com",
                                                        "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": address})

    answers = [sign_up_from(n) for n in range(19)]
    assert [answer.status_code for answer in answers] == [201] * 19
    assert sign_up_from(99, email="new0@example.com").status_code == 409  # a refused signup counts too
    assert_too_many(sign_up_from(20), 3600)
    assert sign_up_from(21, address="203.0.113.9").status_code == 201


def test_limits_are_off_with_ratelimit_disabled(make_app):
    app = make_app(RATELIMIT_ENABLED=False, POSTS_PER_MINUTE=1, SIGNUPS_PER_IP_PER_HOUR=1)
    client = app.test_client()
    tokens = [client.post("/api/v1/auth/signup", json={"email": f"off{n}@example.com", "password": PASSWORD}
                          ).json["access_token"] for n in range(3)]
    headers = bearer(tokens[0])
    assert [client.post("/api/v1/posts", json={"body": "x"}, headers=headers).status_code
            for _ in range(3)] == [201] * 3


def test_the_limits_are_settings(tmp_path):
    environ = {"POSTS_PER_MINUTE": "5", "LIKES_PER_MINUTE": "6", "MESSAGES_PER_MINUTE": "7",
               "CONVERSATIONS_PER_HOUR": "8", "SIGNUPS_PER_IP_PER_HOUR": "9"}
    config = build_config(environ, str(tmp_path))
    assert [config[name] for name in environ] == [5, 6, 7, 8, 9]
    defaults = build_config({}, str(tmp_path))
    assert [defaults[name] for name in environ] == [30, 120, 60, 30, 20]
    with pytest.raises(ConfigError, match="POSTS_PER_MINUTE must be positive"):
        build_config({"POSTS_PER_MINUTE": "0"}, str(tmp_path))


def test_every_limited_operation_documents_its_429(client):
    paths = client.get("/openapi.json").json["paths"]
    limited = {("/api/v1/posts", "post"): "POSTS_PER_MINUTE", ("/api/v1/posts/{post_id}/like", "post"): "LIKES_PER_MINUTE",
               ("/api/v1/conversations", "post"): "CONVERSATIONS_PER_HOUR",
               ("/api/v1/conversations/{conversation_id}/messages", "post"): "MESSAGES_PER_MINUTE",
               ("/api/v1/auth/signup", "post"): "SIGNUPS_PER_IP_PER_HOUR"}
    for (path, method), setting in limited.items():
        response = paths[path][method]["responses"]["429"]
        assert "`too_many_requests`" in response["description"] and setting in response["description"]
        assert "Retry-After" in response["headers"]
