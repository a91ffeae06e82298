"""Bad post bodies, missing posts and bad list query strings and cursors are a 4xx in the error shape."""

import pytest

from app.extensions import db
from app.posts.models import Like
from tests.errors import POSTS, assert_error, assert_field_error, change_char, new_post_id
from tests.factories import PostFactory, UserFactory

# --- bodies -----------------------------------------------------------------------------------

def test_post_body_as_list_is_422_naming_body(client, headers):
    response = client.post(POSTS, json={"body": ["hello"]}, headers=headers)
    assert_field_error(response, "body")


def test_post_title_as_number_is_422_naming_title(client, headers):
    response = client.post(POSTS, json={"title": 7, "body": "hello"}, headers=headers)
    assert_field_error(response, "title")


def test_unknown_field_on_post_is_422_unknown_field(client, headers):
    response = client.post(POSTS, json={"body": "hello", "x": 1}, headers=headers)
    assert_error(response, 422, "validation_error", fields={"x": ["Unknown field."]})


# --- over-long values -------------------------------------------------------------------------

def test_title_over_200_characters_is_422_naming_title(client, headers):
    response = client.post(POSTS, json={"title": "t" * 201, "body": "hello"}, headers=headers)
    assert_field_error(response, "title")


def test_body_over_10000_characters_is_422_naming_body(client, headers):
    response = client.post(POSTS, json={"body": "b" * 10_001}, headers=headers)
    assert_field_error(response, "body")


def test_post_update_body_over_10000_characters_is_422_naming_body(client, in_app, user_id, headers):
    post_id = in_app(new_post_id, user_id)
    response = client.patch(f"{POSTS}/{post_id}", json={"body": "b" * 10_001}, headers=headers)
    assert_field_error(response, "body")


# --- missing posts ----------------------------------------------------------------------------

def test_missing_post_is_404_post_not_found(client):
    assert_error(client.get(f"{POSTS}/12345"), 404, "post_not_found")


def test_largest_id_that_does_not_exist_is_404_post_not_found(client):
    assert_error(client.get(f"{POSTS}/2147483647"), 404, "post_not_found")


@pytest.mark.parametrize("method,suffix,json", [
    ("patch", "", {"body": "changed"}),
    ("delete", "", None),
    ("post", "/like", None),
    ("delete", "/like", None),
    ("get", "/likes", None),
], ids=["patch", "delete", "like", "unlike", "likes"])
def test_missing_post_on_every_post_route_is_404_post_not_found(client, headers, method, suffix, json):
    response = getattr(client, method)(f"{POSTS}/12345{suffix}", json=json, headers=headers)
    assert_error(response, 404, "post_not_found")


# --- query strings ----------------------------------------------------------------------------

@pytest.mark.parametrize("limit", ["", "0", "101", "-1", "abc", "1.5", "99999999999999999999"])
def test_bad_limit_is_422_naming_limit(client, limit):
    assert_field_error(client.get(f"{POSTS}?limit={limit}"), "limit")


@pytest.mark.parametrize("limit", ["0", "101", "abc"])
def test_bad_limit_on_likes_list_is_422_naming_limit(client, in_app, limit):
    post_id = in_app(new_post_id)
    assert_field_error(client.get(f"{POSTS}/{post_id}/likes?limit={limit}"), "limit")


@pytest.mark.parametrize("author_id", ["abc", "1.5", "", "[1]"])
def test_non_integer_author_id_is_422_naming_author_id(client, author_id):
    assert_field_error(client.get(f"{POSTS}?author_id={author_id}"), "author_id")


@pytest.mark.parametrize("author_id", ["0", "-1", "99999999999999999999"])
def test_out_of_range_author_id_is_422_naming_author_id(client, author_id):
    assert_field_error(client.get(f"{POSTS}?author_id={author_id}"), "author_id")


@pytest.fixture
def posts_cursor(client, in_app):
    """A real ``next_cursor`` of the posts list (three posts, pages of two)."""
    in_app(PostFactory.create_batch, 3)
    page = client.get(f"{POSTS}?limit=2")
    assert page.status_code == 200, page.json
    cursor = page.json["next_cursor"]
    assert cursor
    assert client.get(f"{POSTS}?limit=2&cursor={cursor}").status_code == 200  # the untouched one works
    return cursor


def test_tampered_cursor_payload_is_400_invalid_cursor(client, posts_cursor):
    assert_error(client.get(f"{POSTS}?limit=2&cursor={change_char(posts_cursor, 2)}"), 400, "invalid_cursor")


def test_tampered_cursor_signature_is_400_invalid_cursor(client, posts_cursor):
    payload, _, signature = posts_cursor.rpartition(".")
    tampered = f"{payload}.{change_char(signature, len(signature) // 2)}"
    assert_error(client.get(f"{POSTS}?limit=2&cursor={tampered}"), 400, "invalid_cursor")


def test_truncated_cursor_is_400_invalid_cursor(client, posts_cursor):
    assert_error(client.get(f"{POSTS}?cursor={posts_cursor[:-5]}"), 400, "invalid_cursor")


@pytest.mark.parametrize("cursor", ["garbage", "abc.def", "....", "eyJ4IjoxfQ.AAAA", "%00%01", "%F0%9F%92%A9", "null"])
def test_garbage_cursor_is_400_invalid_cursor(client, cursor):
    assert_error(client.get(f"{POSTS}?cursor={cursor}"), 400, "invalid_cursor")


def test_over_long_cursor_is_4xx_json(client):
    response = client.get(f"{POSTS}?cursor={'a' * 5000}")
    error = assert_error(response, response.status_code, response.get_json()["error"]["code"])
    assert (response.status_code, error["code"]) in ((400, "invalid_cursor"), (422, "validation_error")), error


@pytest.fixture
def likes_cursor(client, in_app):
    """A real ``next_cursor`` of a post's likes list (three likes, pages of two); returns (post id, cursor)."""

    def liked_post() -> int:
        post_id = new_post_id()
        for liker in UserFactory.create_batch(3):
            db.session.add(Like(user_id=liker.id, post_id=post_id))
            db.session.commit()
        return post_id

    post_id = in_app(liked_post)
    page = client.get(f"{POSTS}/{post_id}/likes?limit=2")
    assert page.status_code == 200, page.json
    assert page.json["next_cursor"]
    return post_id, page.json["next_cursor"]


def test_likes_cursor_on_posts_list_is_400_invalid_cursor(client, likes_cursor):
    _, cursor = likes_cursor
    assert_error(client.get(f"{POSTS}?limit=2&cursor={cursor}"), 400, "invalid_cursor")


def test_likes_cursor_of_another_post_is_400_invalid_cursor(client, in_app, likes_cursor):
    post_id, cursor = likes_cursor
    assert client.get(f"{POSTS}/{post_id}/likes?limit=2&cursor={cursor}").status_code == 200
    other_id = in_app(new_post_id)
    assert_error(client.get(f"{POSTS}/{other_id}/likes?limit=2&cursor={cursor}"), 400, "invalid_cursor")


def test_posts_cursor_on_likes_list_is_400_invalid_cursor(client, in_app, posts_cursor):
    post_id = in_app(new_post_id)
    assert_error(client.get(f"{POSTS}/{post_id}/likes?cursor={posts_cursor}"), 400, "invalid_cursor")
