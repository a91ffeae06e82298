"""The API on the real stack: PostgreSQL for data, a Redis server for the JWT blocklist."""

import random
from datetime import datetime, timedelta, timezone

import pytest
import redis
from flask_jwt_extended import decode_token
from sqlalchemy import text

from app.extensions import db
from app.ops.models import record_heartbeat
from tests.accounts import PASSWORD, bearer, sign_up_answer
from tests.factories import PostFactory, UserFactory

pytestmark = pytest.mark.stack

# A stored TTL may trail the token's remaining life by the time the request took, plus rounding.
TTL_SLACK_SECONDS = 10


@pytest.fixture
def redis_client(redis_url):
    """A client of our own on the server the app uses, to look at what the app wrote."""
    url, _prefix = redis_url
    client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2)
    yield client
    client.close()


def db_scalar(app, sql: str, **params):
    with app.app_context():
        value = db.session.execute(text(sql), params).scalar_one()
        db.session.rollback()
        return value


def test_posts_and_likes_round_trip_on_postgresql(pg_app, pg_client):
    author = sign_up_answer(pg_client, "author@example.com", name="Ann Author")
    assert author["user"]["email"] == "author@example.com"

    login = pg_client.post("/api/v1/auth/login", json={"email": "AUTHOR@example.com", "password": PASSWORD})
    assert login.status_code == 200, login.json
    assert login.json["user"]["id"] == author["user"]["id"]
    author_headers = bearer(login.json["access_token"])

    created = pg_client.post("/api/v1/posts", headers=author_headers, json={"title": "Hello", "body": "First post"})
    assert created.status_code == 201, created.json
    post = created.json
    assert post["author"] == {"id": author["user"]["id"], "name": "Ann Author"}
    assert (post["title"], post["body"], post["like_count"], post["liked_by_me"]) == ("Hello", "First post", 0, False)
    post_id = post["id"]
    assert db_scalar(pg_app, "SELECT body FROM posts WHERE id = :id", id=post_id) == "First post"

    reader = sign_up_answer(pg_client, "reader@example.com", name="Rob Reader")
    reader_headers = bearer(reader["access_token"])
    liked = pg_client.post(f"/api/v1/posts/{post_id}/like", headers=reader_headers)
    assert liked.status_code == 201, liked.json
    assert liked.json == {"post_id": post_id, "liked": True, "like_count": 1}

    own_like = pg_client.post(f"/api/v1/posts/{post_id}/like", headers=author_headers)
    assert own_like.status_code == 403
    assert own_like.json["error"]["code"] == "cannot_like_own_post"

    as_reader = pg_client.get("/api/v1/posts", headers=reader_headers)
    assert as_reader.status_code == 200, as_reader.json
    assert [(item["id"], item["like_count"], item["liked_by_me"]) for item in as_reader.json["items"]] == [
        (post_id, 1, True)
    ]
    assert as_reader.json["next_cursor"] is None
    as_author = pg_client.get("/api/v1/posts", headers=author_headers)
    assert [(item["id"], item["liked_by_me"]) for item in as_author.json["items"]] == [(post_id, False)]

    likes = pg_client.get(f"/api/v1/posts/{post_id}/likes")
    assert likes.status_code == 200
    assert [item["user"] for item in likes.json["items"]] == [{"id": reader["user"]["id"], "name": "Rob Reader"}]

    unliked = pg_client.delete(f"/api/v1/posts/{post_id}/like", headers=reader_headers)
    assert unliked.status_code == 200, unliked.json
    assert unliked.json == {"post_id": post_id, "liked": False, "like_count": 0}
    shown = pg_client.get(f"/api/v1/posts/{post_id}", headers=reader_headers)
    assert (shown.json["like_count"], shown.json["liked_by_me"]) == (0, False)
    assert db_scalar(pg_app, "SELECT count(*) FROM likes WHERE post_id = :id", id=post_id) == 0
    assert db_scalar(pg_app, "SELECT like_count FROM posts WHERE id = :id", id=post_id) == 0

    assert pg_client.delete(f"/api/v1/posts/{post_id}", headers=reader_headers).json["error"]["code"] == "not_author"
    deleted = pg_client.delete(f"/api/v1/posts/{post_id}", headers=author_headers)
    assert deleted.status_code == 204
    gone = pg_client.get(f"/api/v1/posts/{post_id}")
    assert gone.status_code == 404
    assert gone.json["error"]["code"] == "post_not_found"
    assert db_scalar(pg_app, "SELECT count(*) FROM posts") == 0


def test_logout_blocklists_tokens_in_real_redis(pg_app, pg_client, redis_client):
    session = sign_up_answer(pg_client, "leaver@example.com", name="Lee Leaver")
    access, refresh = session["access_token"], session["refresh_token"]
    assert pg_client.get("/api/v1/users/me", headers=bearer(access)).status_code == 200
    with pg_app.app_context():
        access_claims, refresh_claims = decode_token(access), decode_token(refresh)
    prefix = pg_app.config["REDIS_KEY_PREFIX"]
    access_key = f"{prefix}jwt:revoked:{access_claims['jti']}"
    refresh_key = f"{prefix}jwt:revoked:{refresh_claims['jti']}"
    assert redis_client.exists(access_key, refresh_key) == 0

    response = pg_client.post("/api/v1/auth/logout", headers=bearer(access), json={"refresh_token": refresh})
    assert response.status_code == 204, response.json

    now = datetime.now(timezone.utc).timestamp()
    for key, claims in ((access_key, access_claims), (refresh_key, refresh_claims)):
        assert redis_client.get(key) is not None, key
        remaining = claims["exp"] - now
        ttl = redis_client.ttl(key)
        assert remaining - TTL_SLACK_SECONDS <= ttl <= remaining + 1, (key, ttl, remaining)

    revoked = pg_client.get("/api/v1/users/me", headers=bearer(access))
    assert revoked.status_code == 401
    assert revoked.json["error"]["code"] == "token_revoked"
    revoked_refresh = pg_client.post("/api/v1/auth/refresh", headers=bearer(refresh))
    assert revoked_refresh.status_code == 401
    assert revoked_refresh.json["error"]["code"] == "token_revoked"


def test_readyz_reports_every_part_ok_once_a_worker_has_beaten(pg_app, pg_client):
    missing = pg_client.get("/readyz")  # Redis is the broker here, and no worker has run yet
    assert missing.status_code == 503, missing.json
    assert missing.json["error"]["checks"] == {"database": "ok", "redis": "ok", "broker": "ok", "worker": "missing"}

    with pg_app.app_context():
        record_heartbeat("celery@test")
    response = pg_client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"] == {"database": "ok", "redis": "ok", "broker": "ok", "worker": "ok"}


def test_keyset_pagination_walks_posts_with_tied_timestamps(pg_app, pg_client):
    base = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
    # 45 posts on 5 timestamps, 9 posts each: both page boundaries (after 20 and 40) fall inside a tie.
    stamps = [base + timedelta(seconds=index // 9) for index in range(45)]
    random.Random(45).shuffle(stamps)  # so that id order and created_at order disagree
    with pg_app.app_context():
        author = UserFactory()
        posts = [PostFactory(author=author, created_at=stamp, updated_at=stamp) for stamp in stamps]
        expected = [post.id for post in sorted(posts, key=lambda post: (post.created_at, post.id), reverse=True)]
        created_at = {post.id: post.created_at for post in posts}
    assert db_scalar(pg_app, "SELECT count(DISTINCT created_at) FROM posts") == 5

    pages, cursor = [], None
    for _ in range(4):  # one more than needed: a fourth page would be a bug
        query = {"limit": 20} if cursor is None else {"limit": 20, "cursor": cursor}
        response = pg_client.get("/api/v1/posts", query_string=query)
        assert response.status_code == 200, response.json
        pages.append(response.json["items"])
        cursor = response.json["next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [20, 20, 5]
    walked = [item["id"] for page in pages for item in page]
    assert walked == expected
    assert len(set(walked)) == 45
    for item in (item for page in pages for item in page):
        assert datetime.fromisoformat(item["created_at"]) == created_at[item["id"]]
