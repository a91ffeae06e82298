"""Leaving a conversation at once, on PostgreSQL: the last two to leave never leave it behind, empty."""

import pytest
from sqlalchemy import func, select

from app.chat.models import Conversation
from app.extensions import db
from tests.factories import UserFactory
from tests.accounts import headers_for
from tests.stack.test_concurrency import run_together

pytestmark = pytest.mark.stack

ROUNDS = 10


def test_the_last_two_leaving_at_once_delete_the_conversation(pg_app):
    with pg_app.app_context():
        ann, bob = UserFactory().id, UserFactory().id
    headers = [headers_for(pg_app, ann), headers_for(pg_app, bob)]
    client = pg_app.test_client()
    for _ in range(ROUNDS):
        conversation = client.post("/api/v1/conversations", headers=headers[0],
                                   json={"title": "brief", "participant_ids": [bob]}).json
        path = f"/api/v1/conversations/{conversation['id']}/participants/me"
        statuses = run_together(pg_app, [lambda c, h=h: c.delete(path, headers=h).status_code for h in headers])
        assert statuses == [204, 204]
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == 0
