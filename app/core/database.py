"""Column types, engine settings and session teardown shared by every model."""

import logging
import select
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone

from psycopg.pq import TransactionStatus
from sqlalchemy import DateTime, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.types import TypeDecorator

from app.extensions import db

log = logging.getLogger(__name__)
FRESH = "agora_fresh"  # in a pool record's info: made since its last checkout


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no zone: it is restored here)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous: pass an aware UTC datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def insert_ignoring_conflicts(table):
    """``INSERT ... ON CONFLICT DO NOTHING`` in the dialect of the bound engine."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


@contextmanager
def one_statement():
    """A connection for a use case that is a single statement (a read, or a write that is atomic alone).

    It runs in autocommit, outside the request's session: no BEGIN, COMMIT or ROLLBACK round trips
    around the one statement, and no ORM unit of work to set up and tear down. A write here must
    not follow a write in the request's session: on SQLite it would wait for its own lock.
    """
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def register_database(app):
    """Make the session teardown safe on every backend; on SQLite, also set up locking (see below)."""
    install_session_teardown(app)
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine)
    elif engine.dialect.name == "postgresql":
        refuse_dead_connections(engine)


def refuse_dead_connections(engine) -> None:
    """Hand out no pooled PostgreSQL connection the server has closed: the pool replaces it first.

    SQLAlchemy's pre-ping without its ``SELECT 1`` round trip: a connection the server ended has a readable
    socket. A connection just made is handed out unchecked, so its replacement is never refused in turn.
    """

    @event.listens_for(engine, "connect")
    def on_connect(_dbapi_connection, record):
        record.info[FRESH] = True

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection, record, _proxy):
        if not record.info.pop(FRESH, False) and not idle_and_open(dbapi_connection):
            raise DisconnectionError("the pooled connection was closed by the server")


def idle_and_open(connection) -> bool:
    """True when a psycopg connection is open, outside any transaction, and nothing from the server waits on it."""
    if connection.closed or connection.broken or connection.info.transaction_status != TransactionStatus.IDLE:
        return False
    try:
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def install_session_teardown(app):
    """End each request's session with ``remove_session``, ahead of Flask-SQLAlchemy's own teardown.

    Flask-SQLAlchemy's ``session.remove()`` runs outside the error handlers: a ROLLBACK failing on a dropped
    connection escaped as gunicorn's HTML 500. Teardowns run in reverse order, so this one goes first.
    """
    app.teardown_appcontext(remove_session)


def remove_session(_exc=None):
    """Close and forget the session; if the database fails meanwhile, discard its connections instead of raising.

    The response is already built (the request's work was committed, or only read), so it goes
    out as it is; the failure is logged once and the next request checks out a new connection.
    """
    if not db.session.registry.has():
        return
    session = db.session()
    transaction = session.get_transaction()
    try:
        session.close()
    except Exception as error:
        discard_connections(transaction, error)
    finally:
        db.session.registry.clear()


def discard_connections(transaction, error: Exception) -> None:
    """Invalidate what ``transaction`` held, so the pool never hands out a connection in an unknown state."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        # the server dropped the connection (SQLAlchemy has invalidated it): a line, not a traceback
        reason = str(error.orig).strip().splitlines() or [type(error.orig).__name__]
        log.warning("database connection lost while ending the session, discarded: %s", reason[0])
    else:
        log.error("ending the session failed, its connections are discarded", exc_info=error)
    for connection in transaction.connections if transaction is not None else ():
        if connection.closed:
            continue
        try:
            if not connection.invalidated:
                connection.invalidate(error)
            connection.close()
        except Exception:  # reported above; the connection is unusable either way
            pass


def configure_sqlite(engine):
    """SQLite only: enforce foreign keys, use WAL and take the write lock when a transaction begins.

    pysqlite starts transactions lazily, so two requests that both read and then write
    can deadlock on the lock upgrade and fail at once instead of waiting. BEGIN IMMEDIATE
    serialises writers up front, and the busy timeout makes them queue instead of erroring.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
