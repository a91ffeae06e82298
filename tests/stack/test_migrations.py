"""The real migrations, run on an empty PostgreSQL database, build exactly the schema the models declare."""

import warnings
from datetime import datetime, timezone

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from tests.conftest import build_app, teardown_app

pytestmark = pytest.mark.stack

MODEL_TABLES = {table.name for table in db.metadata.sorted_tables}


@pytest.fixture
def mig_app(empty_database_url, tmp_path):
    app = build_app(tmp_path, SQLALCHEMY_DATABASE_URI=empty_database_url)
    yield app
    teardown_app(app)


def schema_differences() -> list:
    """Alembic autogenerate's comparison of the live database with the models' metadata."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    with db.engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def insert_user(connection, email: str, invite_code: str) -> None:
    now = datetime.now(timezone.utc)
    connection.execute(
        text(
            "INSERT INTO users (email, email_status, enrichment_status, invite_code, points, created_at, updated_at)"
            " VALUES (:email, 'skipped', 'skipped', :code, 0, :now, :now)"
        ),
        {"email": email, "code": invite_code, "now": now},
    )


def test_database_starts_empty(mig_app):
    with mig_app.app_context():
        assert table_names() == set()


def test_upgrade_on_empty_database_matches_models(mig_app):
    with mig_app.app_context():
        flask_migrate.upgrade()

        assert MODEL_TABLES <= table_names()
        assert schema_differences() == []


def test_downgrade_to_base_then_upgrade_again(mig_app):
    with mig_app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")

        assert table_names() - {"alembic_version"} == set()
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 0

        flask_migrate.upgrade()

        assert MODEL_TABLES <= table_names()
        assert schema_differences() == []


def test_migrated_likes_have_unique_user_post_key(mig_app):
    with mig_app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            key = inspect(connection).get_pk_constraint("likes")
            assert sorted(key["constrained_columns"]) == ["post_id", "user_id"]

            insert_user(connection, "author@example.com", "AAAAAA")
            insert_user(connection, "liker@example.com", "BBBBBB")
            author_id, liker_id = connection.execute(text("SELECT id FROM users ORDER BY id")).scalars().all()
            post_id = connection.execute(
                text("INSERT INTO posts (author_id, body, like_count, created_at, updated_at)"
                     " VALUES (:author, 'hello', 0, now(), now()) RETURNING id"),
                {"author": author_id},
            ).scalar_one()
            like = text("INSERT INTO likes (user_id, post_id, created_at) VALUES (:user, :post, now())")
            connection.execute(like, {"user": liker_id, "post": post_id})
            connection.commit()

            with pytest.raises(IntegrityError):
                connection.execute(like, {"user": liker_id, "post": post_id})
            connection.rollback()

            assert connection.execute(text("SELECT count(*) FROM likes")).scalar_one() == 1


def test_migrated_users_email_is_unique_whatever_its_case(mig_app):
    with mig_app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            indexes = {index["name"]: index for index in inspect(connection).get_indexes("users")}
            assert indexes["uq_users_email_lower"]["unique"]

            insert_user(connection, "Alice@example.com", "AAAAAA")
            connection.commit()

            with pytest.raises(IntegrityError):
                insert_user(connection, "aLICE@EXAMPLE.COM", "BBBBBB")
            connection.rollback()

            assert connection.execute(text("SELECT count(*) FROM users")).scalar_one() == 1


def test_migration_env_uses_no_deprecated_api(mig_app):
    with mig_app.app_context(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flask_migrate.upgrade()

    deprecations = [str(warning.message) for warning in caught if issubclass(warning.category, DeprecationWarning)]
    assert deprecations == []
