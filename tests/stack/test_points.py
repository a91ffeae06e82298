"""Points and congratulations under concurrent posting, on PostgreSQL."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from app.chat.models import Message
from app.extensions import db
from app.users.models import User
from tests.factories import UserFactory
from tests.accounts import headers_for

pytestmark = pytest.mark.stack

THREADS, MESSAGES_EACH = 4, 25


def test_concurrent_messages_give_exact_points_and_one_congratulation_per_ten(pg_app):
    pg_app.config["RATELIMIT_ENABLED"] = False  # 100 messages at once: about points, not MESSAGES_PER_MINUTE
    with pg_app.app_context():
        user_id, other_id = UserFactory(name="Ann").id, UserFactory(name="Bob").id
    headers = headers_for(pg_app, user_id)
    client = pg_app.test_client()
    conversations = [client.post("/api/v1/conversations", json={"title": title, "participant_ids": [other_id]},
                                 headers=headers).json["id"] for title in ("one", "two")]
    barrier = threading.Barrier(THREADS, timeout=30)

    def post_messages(thread: int) -> list[int]:
        own_client = pg_app.test_client()
        barrier.wait()
        statuses = []
        for n in range(MESSAGES_EACH):
            conversation = conversations[(thread + n) % 2]
            response = own_client.post(f"/api/v1/conversations/{conversation}/messages",
                                       json={"body": f"{thread}-{n}"}, headers=headers)
            statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = [status for future in [pool.submit(post_messages, t) for t in range(THREADS)]
                    for status in future.result()]
    assert statuses == [201] * THREADS * MESSAGES_EACH

    with pg_app.app_context():
        assert db.session.get(User, user_id).points == THREADS * MESSAGES_EACH
        rewards = db.session.scalars(select(Message).where(Message.kind == "reward")).all()
        totals = sorted(int(re.search(r"reached (\d+) points", reward.body).group(1)) for reward in rewards)
        assert totals == list(range(10, 101, 10))  # each multiple exactly once
        assert all(reward.author_id is None for reward in rewards)
        assert {reward.conversation_id for reward in rewards} <= set(conversations)
        user_messages = db.session.scalars(select(Message).where(Message.kind == "user")).all()
        assert len(user_messages) == THREADS * MESSAGES_EACH
