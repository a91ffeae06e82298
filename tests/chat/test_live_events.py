"""message.created and conversation.created (SPEC 12): to exactly the participants, only after a commit."""

import orjson
import pytest

from app.core.errors import ConversationNotFound
from app.events import models as events
from app.extensions import redis_store
from tests.chat.test_conversations_api import CONVERSATIONS, say, start


def kept(app, user_id: int) -> list[tuple[str, dict]]:
    """The user's stream, oldest first: ``(event name, data)``."""
    with app.app_context():
        entries = redis_store.client.xrange(events.user_stream_key(user_id))
    return [(fields["event"], orjson.loads(fields["data"])) for _, fields in entries]


@pytest.fixture
def eve(sign_up):
    return sign_up(name="Eve")


def test_a_new_conversation_is_sent_to_every_participant_as_answered(client, app, ann, bob, eve):
    conversation = start(client, ann[1], participant_ids=[bob[0]["id"]])
    for user in (ann, bob):
        assert kept(app, user[0]["id"]) == [("conversation.created", {"conversation": conversation})]
    assert kept(app, eve[0]["id"]) == []


def test_a_message_is_sent_to_every_participant_the_author_too_as_answered(client, app, ann, bob, eve):
    conversation_id = start(client, ann[1], participant_ids=[bob[0]["id"]])["id"]
    message = say(client, bob[1], conversation_id, "hi all").json["message"]
    for user in (ann, bob):
        assert kept(app, user[0]["id"])[-1] == ("message.created", {"conversation_id": conversation_id,
                                                                    "message": message})
    assert kept(app, eve[0]["id"]) == []


def test_a_congratulation_is_sent_too_after_its_message(client, app, ann, bob):
    conversation_id = start(client, ann[1], participant_ids=[bob[0]["id"]])["id"]
    answers = [say(client, ann[1], conversation_id, f"m{n}").json for n in range(10)]
    for user in (ann, bob):
        sent = [data["message"] for name, data in kept(app, user[0]["id"]) if name == "message.created"]
        assert sent[-2:] == [answers[-1]["message"], answers[-1]["reward"]]
        assert len(sent) == 11


def test_who_left_is_sent_nothing_more(client, app, ann, bob, eve):
    conversation_id = start(client, ann[1], participant_ids=[bob[0]["id"], eve[0]["id"]])["id"]
    assert client.delete(f"{CONVERSATIONS}/{conversation_id}/participants/me", headers=eve[1]).status_code == 204
    say(client, ann[1], conversation_id)
    assert [name for name, _ in kept(app, eve[0]["id"])] == ["conversation.created"]
    assert [name for name, _ in kept(app, bob[0]["id"])] == ["conversation.created", "message.created"]


def test_no_event_for_a_message_refused_to_an_outsider(client, app, ann, bob, eve):
    conversation_id = start(client, ann[1], participant_ids=[bob[0]["id"]])["id"]
    assert say(client, eve[1], conversation_id).status_code == 404
    for user in (ann, bob, eve):
        assert [name for name, _ in kept(app, user[0]["id"])] == (
            [] if user is eve else ["conversation.created"])


def test_an_event_queued_by_a_write_that_rolls_back_is_never_sent(client, app, ann, bob, monkeypatch):
    conversation_id = start(client, ann[1], participant_ids=[bob[0]["id"]])["id"]
    queue = events.publish_after_commit

    def queue_then_fail(*queued):
        queue(*queued)
        raise ConversationNotFound()  # after the events are queued, before the commit

    monkeypatch.setattr("app.chat.services.publish_after_commit", queue_then_fail)
    assert say(client, ann[1], conversation_id).status_code == 404
    monkeypatch.undo()
    assert client.get(f"{CONVERSATIONS}/{conversation_id}/messages", headers=ann[1]).json["items"] == []
    message = say(client, ann[1], conversation_id, "after").json["message"]
    for user in (ann, bob):
        sent = [data["message"] for name, data in kept(app, user[0]["id"]) if name == "message.created"]
        assert sent == [message]
