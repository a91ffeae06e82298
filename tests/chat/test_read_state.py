"""SPEC 7's read state: activity order, last messages, unread counts and read markers."""

import pytest

from tests.chat.test_conversations_api import CONVERSATIONS, say, start


def listed(client, headers, query=""):
    response = client.get(f"{CONVERSATIONS}{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def shown(client, headers, conversation_id):
    response = client.get(f"{CONVERSATIONS}/{conversation_id}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def read(client, headers, conversation_id, message_id):
    return client.post(f"{CONVERSATIONS}/{conversation_id}/read", json={"message_id": message_id}, headers=headers)


def posted(client, headers, conversation_id, body="hello"):
    response = say(client, headers, conversation_id, body)
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def plans(client, ann, bob):
    return start(client, ann[1], title="Plans", participant_ids=[bob[0]["id"]])["id"]


def test_conversations_without_messages_list_by_creation_newest_first(client, ann, bob):
    first, second = (start(client, ann[1], title=title, participant_ids=[bob[0]["id"]]) for title in ("one", "two"))
    items = listed(client, bob[1])["items"]
    assert [item["id"] for item in items] == [second["id"], first["id"]]
    assert [(item["last_message"], item["unread_count"]) for item in items] == [(None, 0), (None, 0)]


def test_a_new_message_moves_its_conversation_to_the_top(client, ann, bob):
    first, second = (start(client, ann[1], title=title, participant_ids=[bob[0]["id"]])["id"] for title in ("a", "b"))
    message = posted(client, bob[1], first, "up you go")["message"]
    items = listed(client, ann[1])["items"]
    assert [item["id"] for item in items] == [first, second]
    assert items[0]["last_message"] == message
    page = client.get(f"{CONVERSATIONS}/{first}/messages", headers=ann[1]).json["items"]
    assert items[0]["last_message"] == page[0]  # the same shape as the message list


def test_the_list_pages_by_activity_with_its_cursor(client, ann, bob):
    ids = [start(client, ann[1], title=f"c{n}", participant_ids=[bob[0]["id"]])["id"] for n in range(5)]
    posted(client, ann[1], ids[1])
    first = listed(client, ann[1], "?limit=2")
    second = listed(client, ann[1], f"?limit=2&cursor={first['next_cursor']}")
    third = listed(client, ann[1], f"?limit=2&cursor={second['next_cursor']}")
    seen = [item["id"] for page in (first, second, third) for item in page["items"]]
    assert seen == [ids[1], ids[4], ids[3], ids[2], ids[0]]
    assert third["next_cursor"] is None


def test_unread_counts_others_messages_after_my_marker(client, ann, bob, plans):
    for n in range(3):
        posted(client, bob[1], plans, f"b{n}")
    assert listed(client, ann[1])["items"][0]["unread_count"] == 3
    assert listed(client, bob[1])["items"][0]["unread_count"] == 0  # my own messages are never unread
    conversation = shown(client, ann[1], plans)
    assert (conversation["unread_count"], conversation["last_read_message_id"]) == (3, None)


def test_posting_moves_my_marker_to_my_message(client, ann, bob, plans):
    earlier = posted(client, bob[1], plans)["message"]
    mine = posted(client, ann[1], plans)["message"]
    conversation = shown(client, ann[1], plans)
    assert (conversation["last_read_message_id"], conversation["unread_count"]) == (mine["id"], 0)
    assert earlier["id"] < mine["id"]
    assert shown(client, bob[1], plans)["unread_count"] == 1


def test_a_congratulation_is_unread_for_everyone_its_congratulated_too(client, ann, bob, plans):
    """The tenth message's congratulation has no author: nobody wrote it, so it counts for all until read."""
    answers = [posted(client, ann[1], plans, f"m{n}") for n in range(10)]
    reward = answers[-1]["reward"]
    assert reward is not None
    mine = shown(client, ann[1], plans)
    assert (mine["last_message"], mine["unread_count"]) == (reward, 1)
    assert mine["last_read_message_id"] == answers[-1]["message"]["id"]
    assert shown(client, bob[1], plans)["unread_count"] == 11
    assert read(client, ann[1], plans, reward["id"]).json["unread_count"] == 0


def test_reading_moves_my_marker_forward_only(client, ann, bob, plans):
    messages = [posted(client, bob[1], plans, f"b{n}")["message"]["id"] for n in range(4)]
    response = read(client, ann[1], plans, messages[2])
    assert response.status_code == 200
    assert response.json == {"conversation_id": plans, "last_read_message_id": messages[2], "unread_count": 1}
    older = read(client, ann[1], plans, messages[0])
    assert older.json == {"conversation_id": plans, "last_read_message_id": messages[2], "unread_count": 1}
    conversation = shown(client, ann[1], plans)
    assert (conversation["last_read_message_id"], conversation["unread_count"]) == (messages[2], 1)
    assert read(client, ann[1], plans, messages[3]).json["unread_count"] == 0


def test_reading_another_conversations_message_is_422(client, ann, bob, plans):
    other = start(client, bob[1], title="Other", participant_ids=[ann[0]["id"]])["id"]
    elsewhere = posted(client, bob[1], other)["message"]["id"]
    for message_id in (elsewhere, elsewhere + 1000):
        response = read(client, ann[1], plans, message_id)
        assert (response.status_code, response.json["error"]["code"]) == (422, "message_not_in_conversation")
    assert shown(client, ann[1], plans)["last_read_message_id"] is None


def test_reading_a_conversation_not_mine_is_404_alike_for_none(client, ann, bob, sign_up, plans):
    message_id = posted(client, bob[1], plans)["message"]["id"]
    stranger = sign_up(name="Eve")
    for conversation_id, headers in ((plans, stranger[1]), (plans + 1000, ann[1])):
        response = read(client, headers, conversation_id, message_id)
        assert (response.status_code, response.json["error"]["code"]) == (404, "conversation_not_found")


@pytest.mark.parametrize("body", [{}, {"message_id": 0}, {"message_id": "x"}, {"message_id": 2**31},
                                  {"message_id": 1, "extra": 1}])
def test_a_bad_read_body_is_422(client, ann, plans, body):
    response = client.post(f"{CONVERSATIONS}/{plans}/read", json=body, headers=ann[1])
    assert (response.status_code, response.json["error"]["code"]) == (422, "validation_error")


def test_leaving_takes_the_conversation_out_of_my_list(client, ann, bob, plans):
    posted(client, bob[1], plans)
    assert client.delete(f"{CONVERSATIONS}/{plans}/participants/me", headers=ann[1]).status_code == 204
    assert listed(client, ann[1])["items"] == []
    assert [item["id"] for item in listed(client, bob[1])["items"]] == [plans]
