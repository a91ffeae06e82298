"""The list queries the app runs use indexes on large tables: no sequential scan of posts, likes, messages or users.

The tables are seeded in bulk with SQL (50,000 users and posts, 50,000 likes of one post,
20,000 messages in one conversation, 5,000 referrals of one user, 20,000 conversations of
which the user is in 31) and analysed. Each case calls the API as that user, the first page
and the page after it, and captures every statement SQLAlchemy sends, so the test follows
the code when its SQL changes; each captured statement is then planned with
``EXPLAIN (FORMAT JSON)`` and its own parameters.

The rule: a ``Seq Scan`` fails on the tables that grow with the whole service (posts, likes,
messages, users) whatever their size, and on any other table holding more than
``SMALL_TABLE_ROWS`` rows (``pg_class.reltuples`` after ANALYZE). A table smaller than that
is a few hundred pages, where PostgreSQL rightly prefers a sequential scan to an index.
Conversations and participants are seeded past it: one user's few conversations must be
found through the index, not by reading everyone's."""

import json
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import event, text

from app.extensions import db
from tests.accounts import bearer
from tests.conftest import build_app, teardown_app

pytestmark = pytest.mark.stack

LARGE_TABLES = {"posts", "likes", "messages", "users"}
SMALL_TABLE_ROWS = 10_000
USERS, POSTS, MESSAGES, REFERRALS = 50_000, 50_000, 20_000, 5_000  # and USERS likes of post 1
AUTHORS, CONVERSATIONS, MY_CONVERSATIONS, MESSAGES_EACH = 1_000, 20_000, 30, 1
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def base36(number: str, width: int = 6) -> str:
    """SQL for ``number`` in base 36, ``width`` characters, zero-padded: unique invite codes in bulk."""
    return " || ".join(f"substr('{ALPHABET}', (({number}) / {36 ** power} % 36)::int + 1, 1)"
                       for power in reversed(range(width)))


def seed_users(count: int) -> str:
    """SQL inserting ``count`` users with unique emails and invite codes, checks skipped, a minute apart."""
    return f"""
INSERT INTO users (email, name, invite_code, email_status, enrichment_status, points, created_at, updated_at)
SELECT 'seed' || g || '@example.com', 'Seed ' || g, {base36('g')}, 'skipped', 'skipped', 0,
       timestamptz '2026-01-01' + g * interval '1 minute', timestamptz '2026-01-01' + g * interval '1 minute'
FROM generate_series(1, {count}) AS g
"""


SEED_USERS = seed_users(USERS)
# Run after the viewer signed up (its random invite code is checked against the seeded ones).
SEED_REST = [
    # the viewer's referrals: the first seeded users, referred at spread-out times
    f"""UPDATE users SET referred_by_id = :viewer, activated_invite_code = :viewer_code,
            referred_at = timestamptz '2026-06-01' + id * interval '7 seconds' + (id % 5) * interval '1 second'
        WHERE id <= {REFERRALS}""",
    # posts by AUTHORS authors, newest with the highest ids, with a little jitter
    f"""INSERT INTO posts (author_id, title, body, like_count, created_at, updated_at)
        SELECT 1 + g % {AUTHORS}, 'Post ' || g, 'Body of post ' || g, 0,
               timestamptz '2026-01-01' + g * interval '10 seconds' + (g % 7) * interval '1 second',
               timestamptz '2026-01-01' + g * interval '10 seconds'
        FROM generate_series(1, {POSTS}) AS g""",
    # every user but its author likes post 1 (by user 2)
    f"""INSERT INTO likes (user_id, post_id, created_at)
        SELECT u, 1, timestamptz '2026-07-01' + u * interval '3 seconds'
        FROM generate_series(1, {USERS + 1}) AS u WHERE u <> 2""",
    "UPDATE posts SET like_count = (SELECT count(*) FROM likes WHERE post_id = 1) WHERE id = 1",
    # the viewer likes a few recent posts too, so liked_by_me is sometimes true
    f"""INSERT INTO likes (user_id, post_id, created_at)
        SELECT :viewer, p, timestamptz '2026-08-01' + p * interval '1 second'
        FROM generate_series({POSTS - 40}, {POSTS}, 3) AS p""",
    f"""INSERT INTO conversations (title, creator_id, created_at)
        SELECT 'Conversation ' || g, g, timestamptz '2026-03-01' + g * interval '1 hour'
        FROM generate_series(1, {CONVERSATIONS}) AS g""",
    f"""INSERT INTO conversation_participants (conversation_id, user_id, joined_at, activity_at)
        SELECT c, u, timestamptz '2026-03-01' + c * interval '1 hour', timestamptz '2026-03-01' + c * interval '1 hour'
        FROM generate_series(1, {CONVERSATIONS}) AS c, LATERAL (VALUES (c), (c % {USERS} + 1)) AS people(u)""",
    f"""INSERT INTO conversation_participants (conversation_id, user_id, joined_at, activity_at)
        SELECT c, :viewer, timestamptz '2026-03-01' + c * interval '1 hour', timestamptz '2026-03-01' + c * interval '1 hour'
        FROM generate_series(1, {CONVERSATIONS}, {CONVERSATIONS // MY_CONVERSATIONS}) AS c""",
    # conversation 1 (the viewer's) is long; every other has a few messages
    f"""INSERT INTO messages (conversation_id, author_id, kind, body, created_at)
        SELECT 1, CASE WHEN g % 2 = 0 THEN :viewer ELSE 1 END, 'user', 'Message ' || g,
               timestamptz '2026-04-01' + g * interval '30 seconds'
        FROM generate_series(1, {MESSAGES}) AS g""",
    f"""INSERT INTO messages (conversation_id, author_id, kind, body, created_at)
        SELECT c, c, 'user', 'Hello ' || n, timestamptz '2026-03-01' + c * interval '1 hour' + n * interval '1 minute'
        FROM generate_series(2, {CONVERSATIONS}) AS c, generate_series(1, {MESSAGES_EACH}) AS n""",
]


@dataclass
class Seeded:
    app: object
    token: str
    author_id: int  # an author with about POSTS / AUTHORS posts
    liked_post_id: int
    conversation_id: int


@pytest.fixture(scope="module")
def seeded(postgres_schema, redis_url, tmp_path_factory):
    """The app on PostgreSQL with the large tables seeded once for the module, emptied afterwards."""
    url, prefix = redis_url
    app = build_app(tmp_path_factory.mktemp("plans"), SQLALCHEMY_DATABASE_URI=postgres_schema, REDIS_URL=url,
                    REDIS_KEY_PREFIX=f"{prefix}{uuid.uuid4().hex[:8]}:")
    tables = ", ".join(table.name for table in db.metadata.sorted_tables)
    with app.app_context():
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.execute(text(SEED_USERS))
        db.session.commit()
    response = app.test_client().post("/api/v1/auth/signup", json={
        "email": "viewer@example.com", "password": "plum tractor sings", "name": "Viewer"})
    assert response.status_code == 201, response.json
    viewer = response.json["user"]
    with app.app_context():
        for statement in SEED_REST:
            db.session.execute(text(statement), {"viewer": viewer["id"], "viewer_code": viewer["invite_code"]})
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    yield Seeded(app, response.json["access_token"], author_id=7, liked_post_id=1, conversation_id=1)
    with app.app_context():
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()
    teardown_app(app)


def two_pages(path):
    """The first page of ``path`` and the page after it (a keyset cursor)."""

    def requests(client, headers):
        first = client.get(path, headers=headers)
        assert first.status_code == 200, first.json
        assert first.json["next_cursor"], f"{path} has one page only: the seed is too small to test its cursor"
        separator = "&" if "?" in path else "?"
        second = client.get(f"{path}{separator}cursor={first.json['next_cursor']}", headers=headers)
        assert second.status_code == 200, second.json

    return requests


def one_request(path):
    def requests(client, headers):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.json

    return requests


CASES = {
    "feed page": lambda s: two_pages("/api/v1/posts?limit=20"),
    "feed page by author": lambda s: two_pages(f"/api/v1/posts?limit=20&author_id={s.author_id}"),
    "likes page": lambda s: two_pages(f"/api/v1/posts/{s.liked_post_id}/likes?limit=20"),
    "messages page": lambda s: two_pages(f"/api/v1/conversations/{s.conversation_id}/messages?limit=20"),
    "referrals page": lambda s: two_pages("/api/v1/users/me/referrals?limit=20"),
    "conversations list": lambda s: two_pages("/api/v1/conversations?limit=20"),
    "profile": lambda s: one_request("/api/v1/users/me"),
    "single post": lambda s: one_request(f"/api/v1/posts/{s.liked_post_id}"),
}


def captured_statements(app, run) -> list[tuple[str, object]]:
    """Every SELECT (or WITH) the app sends to PostgreSQL while ``run()`` calls it, with its parameters."""
    captured = []
    with app.app_context():
        engine = db.engine

    def on_statement(_conn, _cursor, statement, parameters, _context, executemany):
        if not executemany and statement.lstrip(" (\n").split(None, 1)[0].upper() in ("SELECT", "WITH"):
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
    return captured


def plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", ()):
        yield from plan_nodes(child)


def explain(app, statement: str, parameters, *, analyze: bool = False) -> dict:
    """The plan of ``statement`` with its ``parameters``; with ``analyze``, as it ran (rows read, loops)."""
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(f"EXPLAIN ({'ANALYZE, ' if analyze else ''}FORMAT JSON) " + statement, parameters)
            plan = cursor.fetchone()[0]
        finally:
            connection.close()
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def table_rows(app) -> dict[str, float]:
    with app.app_context():
        return dict(db.session.execute(text(
            "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        )).all())


def is_too_large_to_scan(table: str, rows: dict[str, float]) -> bool:
    return table in LARGE_TABLES or rows.get(table, 0) > SMALL_TABLE_ROWS


@pytest.mark.parametrize("case", CASES)
def test_list_query_never_scans_a_large_table(seeded, case):
    client, headers = seeded.app.test_client(), bearer(seeded.token)
    requests = CASES[case](seeded)
    statements = captured_statements(seeded.app, lambda: requests(client, headers))
    assert statements, f"{case}: no SELECT was captured"
    rows = table_rows(seeded.app)
    scans = []
    for statement, parameters in statements:
        plan = explain(seeded.app, statement, parameters)
        for node in plan_nodes(plan):
            if node["Node Type"] == "Seq Scan" and is_too_large_to_scan(node["Relation Name"], rows):
                scans.append(f"Seq Scan on {node['Relation Name']} ({rows.get(node['Relation Name'], 0):.0f} rows) in\n"
                             f"  {' '.join(statement.split())}\n  parameters: {parameters}\n"
                             f"  plan: {json.dumps(plan)[:2000]}")
    assert not scans, f"{case}:\n" + "\n".join(scans)
