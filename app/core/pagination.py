"""Keyset pagination: ``(created_at, id)`` cursors, signed so a client cannot forge one."""

from datetime import datetime
from functools import lru_cache

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import Integer, bindparam, tuple_

from app.core.errors import InvalidCursor
from app.extensions import db


def _serializer(kind: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"cursor:{kind}")


def encode_cursor(kind: str, created_at: datetime, tiebreak: int) -> str:
    return _serializer(kind).dumps([created_at.isoformat(), tiebreak])


def decode_cursor(kind: str, cursor: str) -> tuple[datetime, int]:
    """The position a cursor names; ``InvalidCursor`` for anything this API did not issue."""
    try:
        created_at, tiebreak = _serializer(kind).loads(cursor)
        position = datetime.fromisoformat(created_at), int(tiebreak)
    except (BadData, TypeError, ValueError):
        raise InvalidCursor() from None
    if position[0].tzinfo is None:
        raise InvalidCursor()
    return position


def paginate(query, *, kind: str, created_col, tiebreak_col, limit: int, cursor: str | None, key, connection=None,
             params: dict | None = None, wrap=None):
    """Run ``query`` newest first from ``cursor``; returns ``(rows, next_cursor)``.

    ``key(row)`` gives the ``(created_at, tiebreak)`` the query orders by; it runs on ``connection`` (Core)
    or the session, with ``params``. ``wrap(page)`` may turn the page's statement into the one run
    (columns computed for the page's rows only); statements are built once, a request only binds values.
    """
    values = {**(params or {}), "page_size": limit + 1}
    if cursor:
        values["after_created"], values["after_tiebreak"] = decode_cursor(kind, cursor)
    rows = (connection or db.session).execute(_page_of(query, created_col, tiebreak_col, bool(cursor), wrap), values).all()
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(kind, *key(rows[-1]))


@lru_cache(maxsize=128)
def _page_of(query, created_col, tiebreak_col, after_cursor: bool, wrap=None):
    """``query`` ordered newest first, limited to ``:page_size`` rows, after ``(:after_created, :after_tiebreak)``."""
    if after_cursor:
        position = tuple_(bindparam("after_created", type_=created_col.type),
                          bindparam("after_tiebreak", type_=tiebreak_col.type))
        query = query.where(tuple_(created_col, tiebreak_col) < position)
    page = query.order_by(created_col.desc(), tiebreak_col.desc()).limit(bindparam("page_size", type_=Integer()))
    return wrap(page) if wrap is not None else page
