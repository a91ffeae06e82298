"""Conversations, messages, points and congratulations through the API."""

import pytest
from sqlalchemy import func, select

from app.chat.models import Message, Participant
from app.extensions import db
from tests.factories import UserFactory

CONVERSATIONS = "/api/v1/conversations"


def start(client, headers, title="Plans", participant_ids=()):
    response = client.post(CONVERSATIONS, json={"title": title, "participant_ids": list(participant_ids)},
                           headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def say(client, headers, conversation_id, body="hello"):
    return client.post(f"{CONVERSATIONS}/{conversation_id}/messages", json={"body": body}, headers=headers)


def test_creating_a_conversation_includes_the_creator(client, ann, bob):
    conversation = start(client, ann[1], participant_ids=[bob[0]["id"], bob[0]["id"]])
    assert set(conversation) == {"id", "title", "participants", "created_at", "last_message", "unread_count"}
    assert (conversation["last_message"], conversation["unread_count"]) == (None, 0)
    assert conversation["title"] == "Plans"
    assert sorted(p["id"] for p in conversation["participants"]) == sorted([ann[0]["id"], bob[0]["id"]])
    assert {"id": ann[0]["id"], "name": "Ann"} in conversation["participants"]


@pytest.mark.parametrize("names_me", [1, 2])
def test_a_conversation_naming_nobody_but_me_is_422(client, ann, names_me):
    response = client.post(CONVERSATIONS, json={"title": "alone", "participant_ids": [ann[0]["id"]] * names_me},
                           headers=ann[1])
    assert (response.status_code, response.json["error"]["code"]) == (422, "validation_error")
    assert response.json["error"]["fields"]["participant_ids"] == [
        "Name at least one other user: a conversation needs two."]
    assert client.get(CONVERSATIONS, headers=ann[1]).json["items"] == []


@pytest.mark.parametrize("body", [{"title": "alone"}, {"title": "alone", "participant_ids": []}])
def test_a_conversation_naming_nobody_at_all_is_422(client, ann, body):
    response = client.post(CONVERSATIONS, json=body, headers=ann[1])
    assert (response.status_code, response.json["error"]["code"]) == (422, "validation_error")
    assert "participant_ids" in response.json["error"]["fields"]


def test_unknown_participants_are_422(client, ann):
    response = client.post(CONVERSATIONS, json={"title": "x", "participant_ids": [424242]}, headers=ann[1])
    assert response.status_code == 422
    assert response.json["error"]["fields"]["participant_ids"] == ["No user has the id 424242."]


@pytest.mark.parametrize("body, field", [
    ({"participant_ids": []}, "title"),
    ({"title": "", "participant_ids": []}, "title"),
    ({"title": "t" * 201}, "title"),
    ({"title": "x", "participant_ids": "1,2"}, "participant_ids"),
    ({"title": "x", "participant_ids": [0]}, "participant_ids"),
    ({"title": "x", "participant_ids": [2**31]}, "participant_ids"),
    ({"title": "x", "participant_ids": list(range(1, 52))}, "participant_ids"),
])
def test_bad_conversation_bodies_are_422(client, ann, body, field):
    response = client.post(CONVERSATIONS, json=body, headers=ann[1])
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_conversations_need_a_token(client):
    assert client.get(CONVERSATIONS).json["error"]["code"] == "authorization_required"


def test_i_list_only_my_conversations_newest_first(client, ann, bob, sign_up):
    carol, carol_headers = sign_up(name="Carol")
    dave, _ = sign_up(name="Dave")
    first = start(client, ann[1], "first", [bob[0]["id"]])
    start(client, carol_headers, "not mine", [dave["id"]])
    second = start(client, bob[1], "second", [ann[0]["id"]])
    listed = client.get(CONVERSATIONS, headers=ann[1]).json
    assert [item["id"] for item in listed["items"]] == [second["id"], first["id"]]
    page = client.get(f"{CONVERSATIONS}?limit=1", headers=ann[1]).json
    rest = client.get(CONVERSATIONS, query_string={"cursor": page["next_cursor"]}, headers=ann[1]).json
    assert [item["id"] for item in page["items"] + rest["items"]] == [second["id"], first["id"]]


def test_someone_elses_conversation_looks_like_none_at_all(client, ann, bob, sign_up):
    carol, _ = sign_up(name="Carol")
    conversation = start(client, ann[1], participant_ids=[carol["id"]])
    theirs = client.get(f"{CONVERSATIONS}/{conversation['id']}", headers=bob[1])
    missing = client.get(f"{CONVERSATIONS}/424242", headers=bob[1])
    assert theirs.status_code == missing.status_code == 404
    assert without_request_id(theirs.json) == without_request_id(missing.json)  # each answer has its own id
    assert theirs.json["error"]["code"] == "conversation_not_found"
    for response in (client.get(f"{CONVERSATIONS}/{conversation['id']}/messages", headers=bob[1]),
                     say(client, bob[1], conversation["id"])):
        assert (response.status_code, response.json["error"]["code"]) == (404, "conversation_not_found")


def test_a_message_earns_a_point(client, ann, bob):
    conversation = start(client, ann[1], participant_ids=[bob[0]["id"]])
    response = say(client, ann[1], conversation["id"], "  hi Bob  ")
    assert response.status_code == 201
    body = response.json
    assert body["points"] == 1 and body["reward"] is None
    assert body["message"]["author"] == {"id": ann[0]["id"], "name": "Ann"}
    assert (body["message"]["kind"], body["message"]["body"]) == ("user", "hi Bob")
    assert body["message"]["conversation_id"] == conversation["id"]
    assert client.get("/api/v1/users/me", headers=ann[1]).json["points"] == 1


def test_the_tenth_and_twentieth_messages_are_congratulated(client, app, ann, bob):
    conversation = start(client, ann[1], participant_ids=[bob[0]["id"]])
    answers = [say(client, ann[1], conversation["id"], f"message {n}").json for n in range(1, 21)]
    assert [answer["points"] for answer in answers] == list(range(1, 21))
    rewarded = {answer["points"]: answer["reward"] for answer in answers if answer["reward"]}
    assert set(rewarded) == {10, 20}
    for total, reward in rewarded.items():
        assert reward["author"] is None and reward["kind"] == "reward"
        assert reward["body"] == f"Congratulations, Ann! You reached {total} points."
        assert reward["conversation_id"] == conversation["id"]
    # Congratulations earn nothing themselves.
    assert client.get("/api/v1/users/me", headers=ann[1]).json["points"] == 20
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message).where(Message.kind == "reward")) == 2


def test_messages_read_newest_first_with_the_congratulation_after_its_message(client, ann, bob):
    conversation = start(client, ann[1], participant_ids=[bob[0]["id"]])
    for n in range(1, 11):
        say(client, ann[1], conversation["id"], f"message {n}")
    say(client, bob[1], conversation["id"], "well done")
    page = client.get(f"{CONVERSATIONS}/{conversation['id']}/messages?limit=3", headers=bob[1]).json
    assert [(item["kind"], item["body"]) for item in page["items"]] == [
        ("user", "well done"), ("reward", "Congratulations, Ann! You reached 10 points."), ("user", "message 10")]
    seen, cursor = [], None
    while True:
        query = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{CONVERSATIONS}/{conversation['id']}/messages", query_string=query, headers=bob[1]).json
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 12 and len({item["id"] for item in seen}) == 12


def test_points_count_across_conversations(client, ann, bob):
    one = start(client, ann[1], "one", [bob[0]["id"]])
    two = start(client, ann[1], "two", [bob[0]["id"]])
    answers = [say(client, ann[1], conversation["id"]).json for conversation in [one, two] * 5]
    assert answers[-1]["points"] == 10
    assert answers[-1]["reward"]["conversation_id"] == two["id"]


def test_a_user_without_a_name_is_congratulated_by_id(client, app, auth_headers, bob):
    with app.app_context():
        nameless = UserFactory(name=None)
        headers = auth_headers(nameless.id)
        nameless_id = nameless.id
    conversation = start(client, headers, participant_ids=[bob[0]["id"]])
    answers = [say(client, headers, conversation["id"]).json for _ in range(10)]
    assert answers[-1]["reward"]["body"] == f"Congratulations, user #{nameless_id}! You reached 10 points."


@pytest.mark.parametrize("body", [{}, {"body": ""}, {"body": "   "}, {"body": "x" * 2001}, {"body": 5}, {"body": "x", "y": 1}])
def test_bad_message_bodies_are_422(client, ann, bob, body):
    conversation = start(client, ann[1], participant_ids=[bob[0]["id"]])
    response = client.post(f"{CONVERSATIONS}/{conversation['id']}/messages", json=body, headers=ann[1])
    assert (response.status_code, response.json["error"]["code"]) == (422, "validation_error")


def test_undeliverable_writers_cannot_post_or_start(client, app, auth_headers, ann, bob):
    conversation = start(client, ann[1], participant_ids=[bob[0]["id"]])
    with app.app_context():
        blocked = UserFactory(email_status="invalid")
        headers = auth_headers(blocked.id)
    response = client.post(CONVERSATIONS, json={"title": "x", "participant_ids": [ann[0]["id"]]}, headers=headers)
    assert (response.status_code, response.json["error"]["code"]) == (403, "email_undeliverable")
    with app.app_context():
        db.session.add(Participant(conversation_id=conversation["id"], user_id=blocked.id))
        db.session.commit()
    response = say(client, headers, conversation["id"])
    assert (response.status_code, response.json["error"]["code"]) == (403, "email_undeliverable")
    assert client.get(f"{CONVERSATIONS}/{conversation['id']}/messages", headers=headers).status_code == 200


def without_request_id(body: dict) -> dict:
    return {"error": {key: value for key, value in body["error"].items() if key != "request_id"}}
