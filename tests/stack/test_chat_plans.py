"""The chat reads are index walks whatever PostgreSQL's statistics say (issue 28).

Each state gets a database of its own, seeded in bulk with SQL with autovacuum off: 4,000 users,
6,000 two-person conversations of others, and the viewer in 300 more; one of the viewer's holds
50,000 messages, one a single message, every other conversation 15, written in turns (a
conversation's rows lie apart in the table). The states: the tables as the bulk load left them,
never analysed (the planner's defaults); after ``VACUUM ANALYZE`` (autovacuum's work: statistics
and the visibility map); and stale, where conversation 3 then grows by 20,000 messages that the
statistics do not know of.

Each statement the routes send for a first page and the page after it is run again under
``EXPLAIN (ANALYZE, FORMAT JSON)`` with its own parameters. A page of messages, of 20 or of 100,
must walk the ``(conversation_id, created_at, id)`` index backwards and read one page of it: no
sort at all (a top-N sort over the page would mean the conversation was read first), no sequential
scan. (Before issue 28, a second page of 100 in the long conversation on the never analysed tables
read all 50,000 rows, hashed them with the users and sorted them.) The conversation list must reach
the viewer's conversations, last messages, unread counts and participants through indexes: a
backward walk of the viewer's ``(user_id, activity_at, conversation_id)`` entries that reads one
page of them, no sequential scan of messages, participants or conversations, and no sort of more
than a page. (Before issue 28, the analysed tables had the viewer's 300 conversations found by
hashing all 6,300; then each of the 300 was probed and sorted for every page.)
"""

import json
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.extensions import db
from tests.conftest import build_app, database_of_its_own, teardown_app
from tests.stack.test_query_plans import captured_statements, explain, plan_nodes, seed_users

pytestmark = pytest.mark.stack

USERS, OTHER_CONVERSATIONS, MY_CONVERSATIONS = 4_000, 6_000, 300
LONG, EACH = 50_000, 15  # messages in the viewer's long conversation; in every other one but the single
PAGE = 20
MESSAGE_INDEX = "ix_messages_conversation_id_created_at_id"
LIST_INDEX = "ix_conversation_participants_user_id_activity_at"
CHAT_TABLES = ("users", "conversations", "conversation_participants", "messages")
NEVER_SCANNED = {"messages", "conversation_participants"}
# The bulk load as it is; after VACUUM ANALYZE; and after that, conversation 3 grown past what its
# statistics say (autovacuum gathers them again only once a tenth of the table has changed).
STATES = ["never analysed", "analysed", "stale"]
GROWN = 20_000

# Run after the viewer signed up (id :viewer). Conversation 1 is the long one, 2 the single message;
# the viewer is in 1 .. MY_CONVERSATIONS, with others in the rest.
SEED_REST = [
    f"""INSERT INTO conversations (title, creator_id, created_at)
        SELECT 'Conversation ' || g, 1 + g % {USERS}, timestamptz '2026-03-01' + g * interval '1 minute'
        FROM generate_series(1, {MY_CONVERSATIONS + OTHER_CONVERSATIONS}) AS g""",
    f"""INSERT INTO conversation_participants (conversation_id, user_id, joined_at, activity_at)
        SELECT c, u, timestamptz '2026-03-01' + c * interval '1 minute', timestamptz '2026-03-01' + c * interval '1 minute'
        FROM generate_series(1, {MY_CONVERSATIONS + OTHER_CONVERSATIONS}) AS c,
             LATERAL (VALUES (1 + c % {USERS}), (1 + (c + 1) % {USERS}),
                             (CASE WHEN c <= {MY_CONVERSATIONS} THEN :viewer END)) AS people(u)
        WHERE u IS NOT NULL""",
    f"""INSERT INTO messages (conversation_id, author_id, kind, body, created_at)
        SELECT 1, CASE WHEN g % 3 = 0 THEN :viewer ELSE 2 END, 'user', 'Message ' || g,
               timestamptz '2026-04-01' + g * interval '10 seconds'
        FROM generate_series(1, {LONG}) AS g""",
    """INSERT INTO messages (conversation_id, author_id, kind, body, created_at)
       VALUES (2, 3, 'user', 'The only one', timestamptz '2026-03-20')""",
    f"""INSERT INTO messages (conversation_id, author_id, kind, body, created_at)
        SELECT c, 1 + c % {USERS}, 'user', 'Hello ' || n,
               timestamptz '2026-03-01' + c * interval '1 minute' + n * interval '1 second'
        FROM generate_series(1, {EACH}) AS n, generate_series(3, {MY_CONVERSATIONS + OTHER_CONVERSATIONS}) AS c
        ORDER BY n, c""",  # interleaved, as conversations are written at once: each one's rows far apart
    """UPDATE conversations c SET last_message_id = newest.id, last_message_at = newest.created_at
       FROM (SELECT DISTINCT ON (conversation_id) conversation_id, id, created_at FROM messages
             ORDER BY conversation_id, created_at DESC, id DESC) AS newest
       WHERE newest.conversation_id = c.id""",
    """UPDATE conversation_participants p SET activity_at = c.last_message_at
       FROM conversations c WHERE c.id = p.conversation_id AND c.last_message_at IS NOT NULL""",
    # the viewer has read all but the last few messages of theirs
    """UPDATE conversation_participants p SET last_read_message_id = c.last_message_id - 2
       FROM conversations c WHERE c.id = p.conversation_id AND p.user_id = :viewer""",
]
GROW = f"""
INSERT INTO messages (conversation_id, author_id, kind, body, created_at)
SELECT 3, CASE WHEN g % 2 = 0 THEN :viewer ELSE 4 END, 'user', 'Later ' || g,
       timestamptz '2026-05-01' + g * interval '10 seconds'
FROM generate_series(1, {GROWN}) AS g
"""


@dataclass
class Seeded:
    app: object
    headers: dict
    statistics: str


def run_outside_a_transaction(statement: str) -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(statement))


@pytest.fixture(scope="module", params=STATES)
def seeded(request, postgres_url, redis_url, tmp_path_factory):
    """The app on a database seeded for ``request.param``, each state on a database of its own."""
    url, prefix = redis_url
    state = request.param
    with database_of_its_own(postgres_url, f"{make_url(postgres_url).database}_chat_{STATES.index(state)}") as database:
        app = build_app(tmp_path_factory.mktemp("chat-plans"), SQLALCHEMY_DATABASE_URI=database, REDIS_URL=url,
                        REDIS_KEY_PREFIX=f"{prefix}{uuid.uuid4().hex[:8]}:")
        with app.app_context():
            db.create_all()
            for table in CHAT_TABLES:  # nothing may gather statistics behind the test's back
                db.session.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
            db.session.execute(text(seed_users(USERS)))
            db.session.commit()
        response = app.test_client().post("/api/v1/auth/signup", json={
            "email": "viewer@example.com", "password": "plum tractor sings", "name": "Viewer"})
        assert response.status_code == 201, response.json
        with app.app_context():
            for statement in SEED_REST:
                db.session.execute(text(statement), {"viewer": response.json["user"]["id"]})
            db.session.commit()
            if state == "never analysed":
                gathered = db.session.execute(text("SELECT DISTINCT tablename FROM pg_stats "
                                                   "WHERE schemaname = 'public'")).all()
                assert not gathered, f"statistics were gathered: {gathered}"
            else:
                run_outside_a_transaction(f"VACUUM ANALYZE {', '.join(CHAT_TABLES)}")
            if state == "stale":
                db.session.execute(text(GROW), {"viewer": response.json["user"]["id"]})
                db.session.commit()
        yield Seeded(app, {"Authorization": f"Bearer {response.json['access_token']}"}, state)
        teardown_app(app)


def pages(seeded, path: str) -> list[tuple[str, object, dict]]:
    """The statements of ``path``'s first page and of the page after it, each with its plan as run."""
    client = seeded.app.test_client()

    def run():
        first = client.get(path, headers=seeded.headers)
        assert first.status_code == 200, first.json
        if first.json["next_cursor"]:
            second = client.get(f"{path}&cursor={first.json['next_cursor']}", headers=seeded.headers)
            assert second.status_code == 200, second.json

    statements = captured_statements(seeded.app, run)
    assert statements, f"{path}: no SELECT was captured"
    return [(statement, parameters, explain(seeded.app, statement, parameters, analyze=True))
            for statement, parameters in statements]


def described(statement: str, parameters, plan: dict) -> str:
    return f"  {' '.join(statement.split())}\n  parameters: {parameters}\n  plan: {json.dumps(plan)[:3000]}"


def scans_of(plan: dict, table: str) -> list[dict]:
    return [node for node in plan_nodes(plan) if node.get("Relation Name") == table]


@pytest.mark.parametrize("limit", [20, 100])
@pytest.mark.parametrize("conversation", ["long", "single", "grown"])
def test_the_messages_page_walks_the_index_in_its_order(seeded, conversation, limit):
    conversation_id = {"long": 1, "single": 2, "grown": 3}[conversation]
    planned = pages(seeded, f"/api/v1/conversations/{conversation_id}/messages?limit={limit}")
    pages_read = 1 if conversation == "single" or (conversation == "grown" and seeded.statistics != "stale") else 2
    assert len(planned) == pages_read, [statement for statement, _, _ in planned]  # one statement a page
    for statement, parameters, plan in planned:
        where = (f"{seeded.statistics}, {conversation} conversation, limit {limit}:\n"
                 f"{described(statement, parameters, plan)}")
        nodes = list(plan_nodes(plan))
        assert not [node for node in nodes if node["Node Type"] in ("Sort", "Incremental Sort")], where
        assert not [node for node in nodes if node["Node Type"] == "Seq Scan"
                    and node["Relation Name"] in NEVER_SCANNED], where
        walks = [node for node in scans_of(plan, "messages") if node.get("Index Name") == MESSAGE_INDEX]
        assert len(walks) == 1 and walks[0]["Scan Direction"] == "Backward", where
        # one page and the row that says another follows: never the whole conversation
        assert walks[0]["Actual Rows"] * walks[0]["Actual Loops"] <= limit + 1, where


def test_the_conversation_list_reaches_everything_through_indexes(seeded):
    planned = pages(seeded, f"/api/v1/conversations?limit={PAGE}")
    assert len(planned) == 2, [statement for statement, _, _ in planned]  # one statement a page, participants in it
    for statement, parameters, plan in planned:
        where = f"{seeded.statistics}:\n{described(statement, parameters, plan)}"
        nodes = list(plan_nodes(plan))
        assert not [node for node in nodes if node["Node Type"] == "Seq Scan"
                    and node["Relation Name"] in NEVER_SCANNED | {"conversations"}], where
        for sort in (node for node in nodes if node["Node Type"] in ("Sort", "Incremental Sort")):
            assert not scans_of(sort, "messages"), f"a sort over messages in\n{where}"
        # a page of the viewer's conversations is read from their index entries, in its order: no sort
        # of all of them, and no conversation or participant row but the page's
        walks = [node for node in scans_of(plan, "conversation_participants") if node.get("Index Name") == LIST_INDEX]
        assert len(walks) == 1 and walks[0]["Scan Direction"] == "Backward", where
        assert walks[0]["Actual Rows"] * walks[0]["Actual Loops"] <= PAGE + 1, where
        for sort in (node for node in nodes if node["Node Type"] in ("Sort", "Incremental Sort")):
            assert sort["Actual Rows"] * sort["Actual Loops"] <= PAGE + 1, f"a sort of more than a page in\n{where}"
        for node in scans_of(plan, "conversations"):
            assert node["Actual Rows"] * node["Actual Loops"] <= PAGE + 1, where
