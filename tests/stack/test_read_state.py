"""Read state under concurrency on PostgreSQL: last message, unread counts and forward-only markers stay exact."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from app.chat.models import Message, Participant
from app.extensions import db
from tests.factories import UserFactory
from tests.accounts import headers_for

pytestmark = pytest.mark.stack

THREADS, MESSAGES_EACH = 4, 15


def run_together(count: int, work) -> list:
    """``work(n)`` for n in range(count), each in its own thread, started at once."""
    barrier = threading.Barrier(count, timeout=30)

    def started(n):
        barrier.wait()
        return work(n)

    with ThreadPoolExecutor(count) as pool:
        return [future.result() for future in [pool.submit(started, n) for n in range(count)]]


def test_concurrent_posting_keeps_last_message_and_unread_counts_exact(pg_app):
    pg_app.config["RATELIMIT_ENABLED"] = False  # about read state, not MESSAGES_PER_MINUTE
    with pg_app.app_context():
        writers = [UserFactory(name=f"Writer {n}").id for n in range(THREADS)]
        reader = UserFactory(name="Reader").id
    headers = {user_id: headers_for(pg_app, user_id) for user_id in [*writers, reader]}
    client = pg_app.test_client()
    conversation = client.post("/api/v1/conversations", json={"title": "busy", "participant_ids": [*writers[1:], reader]},
                               headers=headers[writers[0]]).json["id"]
    path = f"/api/v1/conversations/{conversation}"

    def post_messages(thread: int) -> list[int]:
        own_client = pg_app.test_client()
        return [own_client.post(f"{path}/messages", json={"body": f"{thread}-{n}"},
                                headers=headers[writers[thread]]).status_code for n in range(MESSAGES_EACH)]

    statuses = [status for thread in run_together(THREADS, post_messages) for status in thread]
    assert statuses == [201] * THREADS * MESSAGES_EACH

    with pg_app.app_context():
        messages = db.session.scalars(select(Message).where(Message.conversation_id == conversation)
                                      .order_by(Message.created_at.desc(), Message.id.desc())).all()
    rewards = [message for message in messages if message.kind == "reward"]
    assert len(messages) == THREADS * MESSAGES_EACH + len(rewards)
    newest = messages[0]
    shown = client.get(path, headers=headers[reader]).json
    assert (shown["last_message"]["id"], shown["unread_count"]) == (newest.id, len(messages))
    listed = client.get("/api/v1/conversations", headers=headers[reader]).json["items"]
    assert (listed[0]["last_message"]["id"], listed[0]["unread_count"]) == (newest.id, len(messages))
    for writer in writers:
        mine = [message.id for message in messages if message.author_id == writer]
        view = client.get(path, headers=headers[writer]).json
        assert view["last_read_message_id"] == max(mine)  # each post moved its author's marker, forward only
        assert view["unread_count"] == sum(1 for message in messages
                                           if message.id > max(mine) and message.author_id != writer)


def test_concurrent_read_markers_only_move_forward(pg_app):
    pg_app.config["RATELIMIT_ENABLED"] = False
    with pg_app.app_context():
        writer, reader = UserFactory(name="Writer").id, UserFactory(name="Reader").id
    headers = {writer: headers_for(pg_app, writer), reader: headers_for(pg_app, reader)}
    client = pg_app.test_client()
    conversation = client.post("/api/v1/conversations", json={"title": "read", "participant_ids": [reader]},
                               headers=headers[writer]).json["id"]
    path = f"/api/v1/conversations/{conversation}"
    ids = [client.post(f"{path}/messages", json={"body": f"m{n}"}, headers=headers[writer]).json["message"]["id"]
           for n in range(9)]
    rounds = 8

    def mark(thread: int) -> list[int]:
        own_client = pg_app.test_client()
        order = ids if thread % 2 == 0 else list(reversed(ids))  # half go forward, half backward, at once
        markers = []
        for _ in range(rounds):
            for message_id in order:
                response = own_client.post(f"{path}/read", json={"message_id": message_id}, headers=headers[reader])
                assert response.status_code == 200, response.json
                markers.append(response.json["last_read_message_id"])
        return markers

    for markers in run_together(THREADS, mark):
        assert markers == sorted(markers)  # what one client sees never goes back
    shown = client.get(path, headers=headers[reader]).json
    assert (shown["last_read_message_id"], shown["unread_count"]) == (ids[-1], 0)


def test_concurrent_posting_across_shared_conversations_keeps_every_list_in_activity_order(pg_app):
    """Every message copies its time onto each participant's row (the list's index): at once, in
    conversations that share their writers, while a reader moves their markers, no row is missed,
    none moves back, and no two posts deadlock over the rows they share."""
    pg_app.config["RATELIMIT_ENABLED"] = False
    with pg_app.app_context():
        writers = [UserFactory(name=f"Writer {n}").id for n in range(THREADS)]
        reader = UserFactory(name="Reader").id
    headers = {user_id: headers_for(pg_app, user_id) for user_id in [*writers, reader]}
    client = pg_app.test_client()
    conversations = [client.post("/api/v1/conversations", json={"title": f"shared {n}",
                                                                 "participant_ids": [*writers[1:], reader]},
                                 headers=headers[writers[0]]).json["id"] for n in range(3)]

    def work(thread: int) -> list[int]:
        own_client = pg_app.test_client()
        if thread == THREADS:  # the reader, marking whatever is newest as read meanwhile
            statuses = []
            for n in range(MESSAGES_EACH):
                conversation = conversations[n % len(conversations)]
                newest = own_client.get(f"/api/v1/conversations/{conversation}", headers=headers[reader]).json
                if newest["last_message"]:
                    statuses.append(own_client.post(f"/api/v1/conversations/{conversation}/read",
                                                    json={"message_id": newest["last_message"]["id"]},
                                                    headers=headers[reader]).status_code)
            return [status for status in statuses if status != 200]
        return [status for n in range(MESSAGES_EACH) if (status := own_client.post(
            f"/api/v1/conversations/{conversations[(thread + n) % len(conversations)]}/messages",
            json={"body": f"{thread}-{n}"}, headers=headers[writers[thread]]).status_code) != 201]

    assert run_together(THREADS + 1, work) == [[]] * (THREADS + 1)
    with pg_app.app_context():
        newest = {conversation: db.session.execute(
            select(Message.created_at, Message.id).where(Message.conversation_id == conversation)
            .order_by(Message.created_at.desc(), Message.id.desc()).limit(1)).one() for conversation in conversations}
        rows = db.session.execute(select(Participant.conversation_id, Participant.activity_at)
                                  .where(Participant.conversation_id.in_(conversations))).all()
    assert {(conversation, activity) for conversation, activity in rows} == {
        (conversation, newest[conversation].created_at) for conversation, _ in rows}
    expected = sorted(conversations, key=lambda conversation: tuple(newest[conversation]), reverse=True)
    for user_id in [*writers, reader]:
        listed = client.get("/api/v1/conversations", headers=headers[user_id]).json["items"]
        assert [item["id"] for item in listed] == expected
        assert [item["last_message"]["id"] for item in listed] == [newest[c].id for c in expected]
