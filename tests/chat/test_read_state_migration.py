"""Migrations 0005 and 0006 on SQLite: they upgrade in place, keep every row and backfill the read state and
each participant's activity from the messages."""

import flask_migrate
import pytest
from sqlalchemy import text

from app.extensions import db
from tests.conftest import build_app, teardown_app

AT = "2026-0{month}-0{day} 00:00:00.000000"
SEED = [
    "INSERT INTO users (email, name, invite_code, email_status, enrichment_status, points, created_at, updated_at,"
    f" email_confirmed) VALUES ('a@example.com', 'A', 'CODE01', 'skipped', 'skipped', 0, '{AT.format(month=1, day=1)}',"
    f" '{AT.format(month=1, day=1)}', 0), ('b@example.com', 'B', 'CODE02', 'skipped', 'skipped', 0,"
    f" '{AT.format(month=1, day=1)}', '{AT.format(month=1, day=1)}', 0)",
    f"INSERT INTO conversations (title, creator_id, created_at) VALUES ('talk', 1, '{AT.format(month=2, day=1)}'),"
    f" ('quiet', 1, '{AT.format(month=2, day=2)}')",
    "INSERT INTO conversation_participants (conversation_id, user_id, joined_at) VALUES"
    f" (1, 1, '{AT.format(month=2, day=1)}'), (1, 2, '{AT.format(month=2, day=1)}'),"
    f" (2, 1, '{AT.format(month=2, day=2)}'), (2, 2, '{AT.format(month=2, day=2)}')",
    "INSERT INTO messages (conversation_id, author_id, kind, body, created_at) VALUES"
    f" (1, 1, 'user', 'a', '{AT.format(month=3, day=1)}'), (1, 2, 'user', 'b', '{AT.format(month=3, day=2)}'),"
    f" (1, 1, 'user', 'c', '{AT.format(month=3, day=3)}')",
]


@pytest.fixture
def migrated_app(tmp_path):
    app = build_app(tmp_path)
    yield app
    teardown_app(app)


def upgrade_from_seeded_0004() -> None:
    """The database at 0004 holding SEED's rows, then upgraded to the newest revision."""
    flask_migrate.upgrade(revision="0004")
    with db.engine.begin() as connection:
        for statement in SEED:
            connection.execute(text(statement))
    flask_migrate.upgrade()


def test_upgrading_keeps_every_row_and_backfills_last_messages_markers_and_activity(migrated_app):
    with migrated_app.app_context():
        upgrade_from_seeded_0004()
        with db.engine.connect() as connection:
            conversations = connection.execute(text(
                "SELECT id, last_message_id, last_message_at FROM conversations ORDER BY id")).all()
            markers = connection.execute(text("SELECT conversation_id, user_id, last_read_message_id, activity_at "
                                              "FROM conversation_participants ORDER BY 1, 2")).all()
            messages = connection.execute(text("SELECT count(*) FROM messages")).scalar_one()
    assert conversations == [(1, 3, AT.format(month=3, day=3)), (2, None, None)]
    # each one's own newest message; the activity of the newest message, else of the creation
    newest, created = AT.format(month=3, day=3), AT.format(month=2, day=2)
    assert markers == [(1, 1, 3, newest), (1, 2, 2, newest), (2, 1, None, created), (2, 2, None, created)]
    assert messages == 3


def test_downgrading_and_upgrading_again_keeps_the_messages(migrated_app):
    with migrated_app.app_context():
        upgrade_from_seeded_0004()
        flask_migrate.downgrade(revision="0004")
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM messages")).scalar_one() == 3
