"""The SQL statements each hot route runs: a fixed small number per request, whatever the data (issue 14).

Only the request under test is counted: its data is made first, through the API. A statement
is what reaches the database as SELECT, INSERT, UPDATE, DELETE or WITH (transaction control
such as SQLite's ``BEGIN IMMEDIATE``, ``SAVEPOINT`` or ``COMMIT`` is not counted). The limits
are what a well-written route needs on SQLite, the fast tier's database, which has no DML
inside a CTE: a read is one SELECT (``liked_by_me`` in it, no user row loaded); a post is one
``INSERT ... SELECT ... RETURNING``; a like is an ``INSERT ... ON CONFLICT DO NOTHING RETURNING``
and the counter's ``UPDATE ... RETURNING`` (or one read of the count when nothing changed); a
message is the points' ``UPDATE ... RETURNING`` (which can check the membership and the email
status in its ``WHERE``), the message's ``INSERT``, the conversation's last message, the author's
read marker and the read of the participants its event goes to, plus one for a congratulation;
a conversation list page is one SELECT (participants, last message and unread counts in it),
whatever the number of conversations and messages; a page of messages is one SELECT, the membership
in it (a page with no rows asks once more whether the conversation is mine).
Redis commands are counted too and shown in a failure, but not limited.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event

from app.extensions import db
from tests.accounts import sign_up_answer

STATEMENT_KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)
    redis_commands: list[str] = field(default_factory=list)

    def report(self) -> str:
        lines = [f"{len(self.statements)} SQL statements:", *(f"  {sql}" for sql in self.statements),
                 f"{len(self.redis_commands)} Redis round trips: {', '.join(self.redis_commands) or '-'}"]
        return "\n".join(lines)


@contextmanager
def counting(app, monkeypatch):
    """Count the SQL statements (on ``db.engine``) and Redis round trips (on the app's client) in the block."""
    counted = Counted()
    with app.app_context():
        engine = db.engine

    def on_statement(_conn, _cursor, statement, _parameters, _context, _executemany):
        words = statement.lstrip(" (\n").split(None, 1)
        if words and words[0].upper() in STATEMENT_KINDS:
            counted.statements.append(" ".join(statement.split()))

    redis = app.extensions["redis"]
    execute_command, pipeline = redis.execute_command, redis.pipeline

    def counted_command(*args, **options):
        counted.redis_commands.append(str(args[0]))
        return execute_command(*args, **options)

    def counted_pipeline(*args, **options):
        pipe = pipeline(*args, **options)
        execute = pipe.execute

        def counted_execute(*execute_args, **execute_options):
            counted.redis_commands.append(f"pipeline({len(pipe.command_stack)})")
            return execute(*execute_args, **execute_options)

        pipe.execute = counted_execute
        return pipe

    with monkeypatch.context() as patch:
        patch.setattr(redis, "execute_command", counted_command)
        patch.setattr(redis, "pipeline", counted_pipeline)
        event.listen(engine, "before_cursor_execute", on_statement)
        try:
            yield counted
        finally:
            event.remove(engine, "before_cursor_execute", on_statement)


@dataclass
class World:
    """An author with 25 posts, a reader who liked three of them, was referred and referred three people."""

    client: object
    author: dict
    reader: dict
    posts: list[int]
    conversation_id: int

    def call(self, method, path, who=None, json=None):
        headers = {"Authorization": f"Bearer {who['access_token']}"} if who else None
        return self.client.open(path, method=method, headers=headers, json=json)


@pytest.fixture
def world(client):
    return make_world(client)


def make_world(client) -> World:
    """The data every case starts from, made through the API."""
    def sign_up(name):
        return sign_up_answer(client, f"{name.lower()}@example.com", name=name)

    author, reader = sign_up("Author"), sign_up("Reader")
    made = World(client, author, reader, [], 0)
    made.posts = [made.call("POST", "/api/v1/posts", author, {"body": f"post {n}"}).json["id"] for n in range(25)]
    for post_id in made.posts[-3:]:
        assert made.call("POST", f"/api/v1/posts/{post_id}/like", reader).status_code == 201
    assert made.call("POST", "/api/v1/users/me/invite", reader,
                     {"invite_code": author["user"]["invite_code"]}).status_code == 200
    for n in range(3):
        assert made.call("POST", "/api/v1/users/me/invite", sign_up(f"Referral{n}"),
                         {"invite_code": reader["user"]["invite_code"]}).status_code == 200
    made.conversation_id = made.call("POST", "/api/v1/conversations", reader,
                                     {"title": "Chat", "participant_ids": [author["user"]["id"]]}).json["id"]
    return made


def feed_page(world):
    return lambda: world.call("GET", "/api/v1/posts?limit=20", world.reader), 200


def post_with_token(world):
    return lambda: world.call("GET", f"/api/v1/posts/{world.posts[-1]}", world.reader), 200


def post_anonymous(world):
    return lambda: world.call("GET", f"/api/v1/posts/{world.posts[-1]}"), 200


def profile(world):
    return lambda: world.call("GET", "/api/v1/users/me", world.reader), 200


def like_new(world):
    return lambda: world.call("POST", f"/api/v1/posts/{world.posts[0]}/like", world.reader), 201


def like_already_liked(world):
    return lambda: world.call("POST", f"/api/v1/posts/{world.posts[-1]}/like", world.reader), 200


def unlike(world):
    return lambda: world.call("DELETE", f"/api/v1/posts/{world.posts[-1]}/like", world.reader), 200


def create_post(world):
    return lambda: world.call("POST", "/api/v1/posts", world.reader, {"title": "Hi", "body": "A new post"}), 201


def post_message(world):
    path = f"/api/v1/conversations/{world.conversation_id}/messages"
    return lambda: world.call("POST", path, world.reader, {"body": "hello"}), 201


def post_message_with_reward(world):
    path = f"/api/v1/conversations/{world.conversation_id}/messages"
    for n in range(9):  # the 10th point earns the congratulation
        assert world.call("POST", path, world.reader, {"body": f"warm-up {n}"}).status_code == 201

    def request():
        response = world.call("POST", path, world.reader, {"body": "the tenth"})
        assert response.json["reward"] is not None
        return response

    return request, 201


def conversation_list(world):
    return lambda: world.call("GET", "/api/v1/conversations?limit=20", world.reader), 200


def messages_page(world):
    path = f"/api/v1/conversations/{world.conversation_id}/messages"
    for n in range(3):
        assert world.call("POST", path, world.author, {"body": f"message {n}"}).status_code == 201
    return lambda: world.call("GET", f"{path}?limit=20", world.reader), 200


def messages_page_of_a_new_conversation(world):
    return lambda: world.call("GET", f"/api/v1/conversations/{world.conversation_id}/messages?limit=20",
                              world.reader), 200


def one_conversation(world):
    return lambda: world.call("GET", f"/api/v1/conversations/{world.conversation_id}", world.reader), 200


def mark_read(world):
    path = f"/api/v1/conversations/{world.conversation_id}"
    message_id = world.call("POST", f"{path}/messages", world.author, {"body": "read me"}).json["message"]["id"]
    return lambda: world.call("POST", f"{path}/read", world.reader, {"message_id": message_id}), 200


def sign_up(world):
    body = {"email": "new.member@example.com", "password": "plum tractor sings", "name": "New"}
    return lambda: world.call("POST", "/api/v1/auth/signup", json=body), 201


def within(case, limit):
    return pytest.param(case, limit, id=case.__name__)


# (route, the most statements it may run); the comments give the count measured before issue 14's rewrite.
CASES = [
    within(feed_page, 1),                       # 2: the user row, the page
    within(post_with_token, 1),                 # 2: the user row, the post
    within(post_anonymous, 1),                  # 1: the post
    within(profile, 2),                         # 5: user, referrals, referrer, two counts
    within(like_new, 2),                        # 4: user, post, insert, counter
    within(like_already_liked, 2),              # 4: user, post, insert, count
    within(unlike, 2),                          # 4: user, post, delete, counter
    within(create_post, 1),                     # 3: user, insert, the post read back
    within(post_message, 5),                    # 6: user, membership, insert, points, user and message read back
    within(post_message_with_reward, 6),        # 8: the same, a second insert and both messages read back
    within(conversation_list, 1),               # 2 before issue 28: the page, its participants
    within(messages_page, 1),                   # 2 before issue 28: membership, the page
    within(messages_page_of_a_new_conversation, 2),  # no rows: is it mine?
    within(one_conversation, 1),                # 2 before issue 28: the conversation, its participants
    within(mark_read, 2),                       # the marker's UPDATE ... RETURNING, the unread count
    within(sign_up, 3),                          # 4 and a savepoint: email check, insert, the profile's two
]


@pytest.mark.parametrize(("case", "limit"), CASES)
def test_hot_route_runs_a_fixed_small_number_of_statements(app, world, monkeypatch, case, limit):
    request, status = case(world)
    with counting(app, monkeypatch) as counted:
        response = request()
    assert response.status_code == status, response.json
    assert len(counted.statements) <= limit, f"{case.__name__}: more than {limit}\n{counted.report()}"


def test_the_conversation_list_runs_as_many_statements_for_many_conversations_as_for_one(app, client, monkeypatch):
    world = make_world(client)
    request, _ = conversation_list(world)
    with counting(app, monkeypatch) as one:
        assert len(request().json["items"]) == 1
    others = [make_user(world, f"Other{n}") for n in range(6)]
    for other in others:
        made = world.call("POST", "/api/v1/conversations", other, {"title": "More",
                                                                     "participant_ids": [world.reader["user"]["id"]]})
        for n in range(3):
            world.call("POST", f"/api/v1/conversations/{made.json['id']}/messages", other, {"body": f"m{n}"})
    with counting(app, monkeypatch) as many:
        items = request().json["items"]
    assert len(items) == 7 and all(item["unread_count"] == 3 for item in items[:6])
    assert len(many.statements) == len(one.statements), f"{one.report()}\n{many.report()}"


def make_user(world, name):
    return sign_up_answer(world.client, f"{name.lower()}@example.com", name=name)
