"""Likes and signups under concurrent requests on PostgreSQL: counts stay exact, unique keys hold."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.accounts import PASSWORD, headers_for
from tests.factories import PostFactory, UserFactory

pytestmark = pytest.mark.stack

THREADS = 20
BARRIER_TIMEOUT = 30


def run_together(app, calls):
    """Run each ``call(client)`` in its own thread with its own test client, all released at once.

    Returns ``(status, json)`` per call, in order; an exception in a thread fails the test.
    """
    barrier = threading.Barrier(len(calls), timeout=BARRIER_TIMEOUT)

    def worker(call):
        client = app.test_client()
        barrier.wait()
        return call(client)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(worker, call) for call in calls]
        return [future.result() for future in futures]


def request(method, path, headers=None, json=None):
    def call(client):
        response = client.open(path, method=method, headers=headers, json=json)
        try:
            return response.status_code, response.get_json()
        finally:
            response.close()

    return call


def make_post_and_likers(app, likers: int) -> tuple[int, list[int]]:
    with app.app_context():
        post = PostFactory()
        users = UserFactory.create_batch(likers)
        return post.id, [user.id for user in users]


def like_state(app, post_id: int) -> tuple[int, int]:
    """``(posts.like_count, rows in likes)`` for the post, read straight from the database."""
    with app.app_context():
        like_count = db.session.execute(
            text("SELECT like_count FROM posts WHERE id = :id"), {"id": post_id}
        ).scalar_one()
        rows = db.session.execute(
            text("SELECT count(*) FROM likes WHERE post_id = :id"), {"id": post_id}
        ).scalar_one()
        db.session.rollback()
        return like_count, rows


def test_same_user_liking_at_once_leaves_one_like(pg_app):
    post_id, (user_id,) = make_post_and_likers(pg_app, 1)
    headers = headers_for(pg_app, user_id)

    results = run_together(pg_app, [request("POST", f"/api/v1/posts/{post_id}/like", headers)] * THREADS)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (THREADS - 1) + [201], results
    assert all(body == {"post_id": post_id, "liked": True, "like_count": 1} for _, body in results), results
    assert like_state(pg_app, post_id) == (1, 1)
    with pg_app.app_context():
        assert db.session.execute(
            text("SELECT user_id FROM likes WHERE post_id = :id"), {"id": post_id}
        ).scalars().all() == [user_id]
        db.session.rollback()


def test_different_users_liking_at_once_are_all_counted(pg_app):
    post_id, user_ids = make_post_and_likers(pg_app, THREADS)
    calls = [request("POST", f"/api/v1/posts/{post_id}/like", headers_for(pg_app, user_id)) for user_id in user_ids]

    results = run_together(pg_app, calls)

    assert [status for status, _ in results] == [201] * THREADS, results
    # Each like saw the counter its own increment produced: every value from 1 to 20 exactly once.
    assert sorted(body["like_count"] for _, body in results) == list(range(1, THREADS + 1))
    assert like_state(pg_app, post_id) == (THREADS, THREADS)


def test_concurrent_likes_and_unlikes_keep_count_equal_to_rows(pg_app):
    post_id, user_ids = make_post_and_likers(pg_app, THREADS)
    path = f"/api/v1/posts/{post_id}/like"
    headers = {user_id: headers_for(pg_app, user_id) for user_id in user_ids}
    starts_liked = user_ids[1::2]  # half the users already like the post
    with pg_app.test_client() as client:
        for user_id in starts_liked:
            assert client.post(path, headers=headers[user_id]).status_code == 201
    assert like_state(pg_app, post_id) == (len(starts_liked), len(starts_liked))

    def flip_flop(user_id):
        """like, unlike, like for the others; unlike, like, unlike for those who liked already."""
        methods = ["DELETE", "POST", "DELETE"] if user_id in starts_liked else ["POST", "DELETE", "POST"]

        def call(client):
            results = [request(method, path, headers[user_id])(client) for method in methods]
            return methods, results

        return call

    outcomes = run_together(pg_app, [flip_flop(user_id) for user_id in user_ids])

    for methods, results in outcomes:
        for method, (status, body) in zip(methods, results):
            assert status == (201 if method == "POST" else 200), (method, status, body)
            assert body["liked"] is (method == "POST")
    like_count, rows = like_state(pg_app, post_id)
    assert like_count == rows
    assert rows == THREADS - len(starts_liked)  # each user's last request decides: the others ended liked


def test_concurrent_signups_with_one_email_create_one_user(pg_app):
    local = "racer"
    variants = [
        "".join(char.upper() if (i >> bit) & 1 else char for bit, char in enumerate(local))
        + ("@Example.COM" if i % 3 else "@example.com")
        for i in range(THREADS)
    ]
    calls = [
        request("POST", "/api/v1/auth/signup", json={"email": email, "password": PASSWORD})
        for email in variants
    ]

    results = run_together(pg_app, calls)

    created = [body for status, body in results if status == 201]
    refused = [body for status, body in results if status != 201]
    assert len(created) == 1, results
    assert [status for status, _ in results].count(409) == THREADS - 1, results
    assert all(body["error"]["code"] == "email_taken" for body in refused), refused
    with pg_app.app_context():
        rows = db.session.execute(
            text("SELECT id, email FROM users WHERE lower(email) = :email"), {"email": "racer@example.com"}
        ).all()
        total = db.session.execute(text("SELECT count(*) FROM users")).scalar_one()
        db.session.rollback()
    assert total == 1
    assert [row.id for row in rows] == [created[0]["user"]["id"]]
    assert rows[0].email == created[0]["user"]["email"]


def test_concurrent_wrong_passwords_never_overshoot_the_login_limit(pg_app):
    limit = pg_app.config["LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS"]
    with pg_app.test_client() as client:
        assert client.post("/api/v1/auth/signup", json={"email": "ann@example.com", "password": PASSWORD}
                           ).status_code == 201
    calls = [request("POST", "/api/v1/auth/login", json={"email": "ann@example.com", "password": "wrong guess"})
             for _ in range(THREADS)]

    results = run_together(pg_app, calls)

    statuses = sorted(status for status, _ in results)
    assert statuses == [401] * limit + [429] * (THREADS - limit), results
