"""The hot routes' statements on PostgreSQL, where a like and a message are each one statement (issue 14).

The same cases as the fast tier's ``tests/test_query_counts.py``; PostgreSQL allows INSERT and
UPDATE inside a CTE, so the limits are lower: every route is one statement, and a message that
earns a congratulation two (the rule that words it lives in Python): its conversation's last
message, its author's read marker and its event's recipients are in the same statement. A
page of conversations (participants in it) and a page of messages are one statement each, as on SQLite.
"""

import pytest

from tests.test_query_counts import (conversation_list, counting, create_post, feed_page, like_already_liked, like_new,
                                     make_world, mark_read, messages_page, messages_page_of_a_new_conversation,
                                     one_conversation, post_anonymous, post_message, post_message_with_reward,
                                     post_with_token, profile, unlike)

pytestmark = pytest.mark.stack

CASES = [
    (feed_page, 1), (post_with_token, 1), (post_anonymous, 1), (profile, 2), (like_new, 1),
    (like_already_liked, 1), (unlike, 2), (create_post, 1), (post_message, 1), (post_message_with_reward, 2),
    (conversation_list, 1), (one_conversation, 1), (mark_read, 2), (messages_page, 1),
    (messages_page_of_a_new_conversation, 2),
]


@pytest.mark.parametrize(("case", "limit"), CASES, ids=[case.__name__ for case, _ in CASES])
def test_hot_route_runs_a_fixed_small_number_of_statements_on_postgresql(pg_app, monkeypatch, case, limit):
    world = make_world(pg_app.test_client())
    request, status = case(world)
    with counting(pg_app, monkeypatch) as counted:
        response = request()
    assert response.status_code == status, response.json
    assert len(counted.statements) <= limit, f"{case.__name__}: more than {limit}\n{counted.report()}"
