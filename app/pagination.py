"""Keyset pagination: ``(created_at, id)`` cursors, signed so a client cannot forge one."""

from datetime import datetime

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import literal, tuple_

from app.errors import InvalidCursor
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


def paginate(query, *, kind: str, created_col, tiebreak_col, limit: int, cursor: str | None, key):
    """Run ``query`` newest first from ``cursor``; returns ``(rows, next_cursor)``.

    ``key(row)`` gives a row's ``(created_at, tiebreak)``: the same columns the query orders by.
    """
    if cursor:
        created_at, tiebreak = decode_cursor(kind, cursor)
        position = tuple_(literal(created_at, created_col.type), literal(tiebreak, tiebreak_col.type))
        query = query.where(tuple_(created_col, tiebreak_col) < position)
    query = query.order_by(created_col.desc(), tiebreak_col.desc()).limit(limit + 1)
    rows = db.session.execute(query).all()
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(kind, *key(rows[-1]))
