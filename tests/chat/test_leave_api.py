"""Leaving a conversation: DELETE /api/v1/conversations/{id}/participants/me (SPEC 7)."""

import pytest
from sqlalchemy import func, select

from app.chat.models import Conversation, Message, Participant
from app.extensions import db
from tests.chat.test_conversations_api import without_request_id

CONVERSATIONS = "/api/v1/conversations"


@pytest.fixture
def plans(client, ann, bob):
    response = client.post(CONVERSATIONS, json={"title": "Plans", "participant_ids": [bob[0]["id"]]}, headers=ann[1])
    assert response.status_code == 201, response.json
    conversation_id = response.json["id"]
    for who in (ann, bob):
        said = client.post(f"{CONVERSATIONS}/{conversation_id}/messages", json={"body": "hi"}, headers=who[1])
        assert said.status_code == 201
    return conversation_id


def leave(client, headers, conversation_id):
    return client.delete(f"{CONVERSATIONS}/{conversation_id}/participants/me", headers=headers)


def test_leaving_takes_the_conversation_out_of_my_list_and_my_reach(client, ann, bob, plans):
    response = leave(client, bob[1], plans)
    assert response.status_code == 204 and response.data == b""
    assert client.get(CONVERSATIONS, headers=bob[1]).json["items"] == []
    for answer in (client.get(f"{CONVERSATIONS}/{plans}", headers=bob[1]),
                   client.get(f"{CONVERSATIONS}/{plans}/messages", headers=bob[1]),
                   client.post(f"{CONVERSATIONS}/{plans}/messages", json={"body": "back?"}, headers=bob[1])):
        assert (answer.status_code, answer.json["error"]["code"]) == (404, "conversation_not_found")


def test_the_others_keep_the_conversation_without_me(client, ann, bob, plans):
    leave(client, bob[1], plans)
    conversation = client.get(f"{CONVERSATIONS}/{plans}", headers=ann[1]).json
    assert [person["id"] for person in conversation["participants"]] == [ann[0]["id"]]
    messages = client.get(f"{CONVERSATIONS}/{plans}/messages", headers=ann[1]).json["items"]
    assert [message["author"]["name"] for message in messages] == ["Bob", "Ann"]  # what Bob wrote stays
    assert client.post(f"{CONVERSATIONS}/{plans}/messages", json={"body": "bye"}, headers=ann[1]).status_code == 201


def test_leaving_twice_a_stranger_and_an_unknown_id_are_the_same_404(client, ann, bob, plans, sign_up):
    _, carol_headers = sign_up(name="Carol")
    assert leave(client, bob[1], plans).status_code == 204
    answers = [leave(client, bob[1], plans), leave(client, carol_headers, plans), leave(client, bob[1], 424242)]
    assert {answer.status_code for answer in answers} == {404}
    assert len({str(without_request_id(answer.json)) for answer in answers}) == 1
    assert answers[0].json["error"]["code"] == "conversation_not_found"
    assert client.get(f"{CONVERSATIONS}/{plans}", headers=ann[1]).status_code == 200  # Carol changed nothing


def test_the_last_to_leave_deletes_the_conversation_and_its_messages(client, app, ann, bob, plans):
    assert leave(client, ann[1], plans).status_code == 204
    assert leave(client, bob[1], plans).status_code == 204
    with app.app_context():
        assert db.session.get(Conversation, plans) is None
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0
        assert db.session.scalar(select(func.count()).select_from(Participant)) == 0
    # Points earned there are kept.
    assert client.get("/api/v1/users/me", headers=ann[1]).json["points"] == 1


def test_leaving_needs_a_token(client, plans):
    response = client.delete(f"{CONVERSATIONS}/{plans}/participants/me")
    assert (response.status_code, response.json["error"]["code"]) == (401, "authorization_required")


@pytest.mark.parametrize("segment", ["0", "x", "１", "99999999999"])
def test_a_bad_conversation_id_is_404(client, ann, segment):
    response = leave(client, ann[1], segment)
    assert response.status_code == 404
