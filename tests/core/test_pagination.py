"""Cursor rules."""

from datetime import datetime, timezone

import pytest

from app.core.errors import InvalidCursor
from app.core.pagination import decode_cursor, encode_cursor

MOMENT = datetime(2026, 11, 23, 5, 0, 0, 123456, tzinfo=timezone.utc)


def test_a_cursor_decodes_to_its_position(ctx):
    assert decode_cursor("posts", encode_cursor("posts", MOMENT, 42)) == (MOMENT, 42)


def test_a_cursor_of_one_list_is_refused_by_another(ctx):
    with pytest.raises(InvalidCursor):
        decode_cursor("likes:1", encode_cursor("posts", MOMENT, 42))


def test_an_edited_cursor_is_refused(ctx):
    cursor = encode_cursor("posts", MOMENT, 42)
    # The first character carries six payload bits (a signature's last one may carry only padding).
    tampered = ("A" if cursor[0] != "A" else "B") + cursor[1:]
    with pytest.raises(InvalidCursor):
        decode_cursor("posts", tampered)


def test_a_cursor_signed_by_another_deployment_is_refused(app, ctx):
    cursor = encode_cursor("posts", MOMENT, 42)
    app.config["SECRET_KEY"] = "another deployment"
    with pytest.raises(InvalidCursor):
        decode_cursor("posts", cursor)
