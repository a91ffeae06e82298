"""Helpers shared by the bad-input tests of each domain: the error-shape assertions, ids and paths."""

from app.extensions import db
from app.users.models import User
from tests.factories import PostFactory, UserFactory

SIGNUP = "/api/v1/auth/signup"
POSTS = "/api/v1/posts"
ME = "/api/v1/users/me"


def assert_error(response, status: int, code: str, *, fields: dict | None = None) -> dict:
    """The response is ``{"error": {"status", "code", "message", "fields"?}}`` with this status and code."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json", response.mimetype
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) >= {"status", "code", "message"}, error
    assert error["status"] == status, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    if fields is not None:
        assert error.get("fields") == fields, error
    return error


def assert_field_error(response, field: str) -> list:
    """A 422 ``validation_error`` whose ``fields`` names ``field`` with at least one message."""
    error = assert_error(response, 422, "validation_error")
    assert isinstance(error.get("fields"), dict), error
    assert field in error["fields"], error
    messages = error["fields"][field]
    assert isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages), error
    return messages


def new_user_id() -> int:
    return UserFactory().id


def new_post_id(author_id: int | None = None) -> int:
    author = db.session.get(User, author_id) if author_id else UserFactory()
    return PostFactory(author=author).id


def change_char(text: str, index: int) -> str:
    """``text`` with the character at ``index`` replaced by a different base64url character."""
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1:]
