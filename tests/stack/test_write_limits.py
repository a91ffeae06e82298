"""The write limits of SPEC 3 under concurrent requests, on PostgreSQL and a real Redis: never overshot."""

import pytest
from sqlalchemy import func, select

from app.chat.models import Message
from app.extensions import db
from app.users.models import User
from tests.accounts import PASSWORD
from tests.factories import UserFactory
from tests.accounts import headers_for
from tests.stack.test_concurrency import THREADS, run_together

pytestmark = pytest.mark.stack

EACH = 5  # requests per thread: 100 in all, 40 past MESSAGES_PER_MINUTE's 60


def test_concurrent_messages_never_overshoot_messages_per_minute(pg_app):
    with pg_app.app_context():
        farmer, other = UserFactory().id, UserFactory().id
    headers = headers_for(pg_app, farmer)
    conversation = pg_app.test_client().post("/api/v1/conversations", headers=headers,
                                             json={"title": "farm", "participant_ids": [other]}).json

    def burst(client):
        return [client.post(f"/api/v1/conversations/{conversation['id']}/messages", headers=headers,
                            json={"body": "point"}).status_code for _ in range(EACH)]

    statuses = [status for statuses in run_together(pg_app, [burst] * THREADS) for status in statuses]
    limit = pg_app.config["MESSAGES_PER_MINUTE"]
    assert (statuses.count(201), statuses.count(429)) == (limit, THREADS * EACH - limit)
    with pg_app.app_context():
        assert db.session.get(User, farmer).points == limit
        user_messages = select(func.count()).select_from(Message).where(Message.kind == "user")
        assert db.session.scalar(user_messages) == limit


def test_concurrent_signups_from_one_address_never_overshoot_the_hourly_limit(pg_app):
    def sign_up_call(n):
        def call(client):
            return client.post("/api/v1/auth/signup", json={"email": f"rush{n}@example.com", "password": PASSWORD},
                               environ_base={"REMOTE_ADDR": "198.51.100.20"}).status_code
        return call

    limit = pg_app.config["SIGNUPS_PER_IP_PER_HOUR"]
    statuses = run_together(pg_app, [sign_up_call(n) for n in range(limit + 10)])
    assert (statuses.count(201), statuses.count(429)) == (limit, 10)
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == limit
