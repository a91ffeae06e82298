"""Bad input of every kind is a 4xx in the error shape of SPEC 3, never a 500."""

import re
from datetime import timedelta

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token

from app.extensions import db
from app.posts.models import Like
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


@pytest.fixture
def in_app(app):
    """Run a function in its own application context, as a test does between requests.

    Requests then run in contexts of their own (one session each), as they do in production.
    """

    def in_app(function, *args, **kwargs):
        with app.app_context():
            return function(*args, **kwargs)

    return in_app


def new_user_id() -> int:
    return UserFactory().id


def new_post_id(author_id: int | None = None) -> int:
    author = db.session.get(User, author_id) if author_id else UserFactory()
    return PostFactory(author=author).id


@pytest.fixture
def user_id(in_app):
    return in_app(new_user_id)


@pytest.fixture
def headers(user_id, auth_headers):
    return auth_headers(user_id)


def change_char(text: str, index: int) -> str:
    """``text`` with the character at ``index`` replaced by a different base64url character."""
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1:]


# --- bodies -----------------------------------------------------------------------------------

def test_malformed_json_is_400_malformed_json(client):
    response = client.post(SIGNUP, data='{"email": "a@example.com", "password": ', content_type="application/json")
    assert_error(response, 400, "malformed_json")


def test_malformed_json_on_authenticated_route_is_400_malformed_json(client, headers):
    response = client.post(POSTS, data="{body: 'x'}", content_type="application/json", headers=headers)
    assert_error(response, 400, "malformed_json")


@pytest.mark.parametrize("payload", ["[]", '[{"email": "a@example.com"}]', '"a string"', "42", "3.5", "true", "null"],
                         ids=["empty-array", "array", "string", "integer", "float", "boolean", "null"])
def test_json_that_is_not_an_object_is_422_validation_error(client, payload):
    response = client.post(SIGNUP, data=payload, content_type="application/json")
    error = assert_error(response, 422, "validation_error")
    assert error.get("fields"), error


def test_json_array_as_post_body_is_422_validation_error(client, headers):
    response = client.post(POSTS, json=[{"body": "hello"}], headers=headers)
    error = assert_error(response, 422, "validation_error")
    assert error.get("fields"), error


def test_password_as_number_is_422_naming_password(client):
    response = client.post(SIGNUP, json={"email": "a@example.com", "password": 12345678})
    assert_field_error(response, "password")


def test_email_as_object_is_422_naming_email(client):
    response = client.post(SIGNUP, json={"email": {"address": "a@example.com"}, "password": "long enough"})
    assert_field_error(response, "email")


def test_post_body_as_list_is_422_naming_body(client, headers):
    response = client.post(POSTS, json={"body": ["hello"]}, headers=headers)
    assert_field_error(response, "body")


def test_post_title_as_number_is_422_naming_title(client, headers):
    response = client.post(POSTS, json={"title": 7, "body": "hello"}, headers=headers)
    assert_field_error(response, "title")


def test_profile_name_as_boolean_is_422_naming_name(client, headers):
    response = client.patch(ME, json={"name": True}, headers=headers)
    assert_field_error(response, "name")


def test_missing_required_field_is_422_naming_it(client):
    response = client.post(SIGNUP, json={"email": "a@example.com"})
    assert_field_error(response, "password")


def test_unknown_field_on_signup_is_422_unknown_field(client):
    response = client.post(SIGNUP, json={"email": "a@example.com", "password": "long enough", "x": 1})
    assert_error(response, 422, "validation_error", fields={"x": ["Unknown field."]})


def test_unknown_field_on_post_is_422_unknown_field(client, headers):
    response = client.post(POSTS, json={"body": "hello", "x": 1}, headers=headers)
    assert_error(response, 422, "validation_error", fields={"x": ["Unknown field."]})


def test_unknown_field_on_profile_update_is_422_unknown_field(client, headers):
    response = client.patch(ME, json={"name": "Ann", "x": 1}, headers=headers)
    assert_error(response, 422, "validation_error", fields={"x": ["Unknown field."]})


def test_one_megabyte_body_is_413_payload_too_large(client):
    body = '{"email": "a@example.com", "password": "' + "x" * (1024 * 1024) + '"}'
    response = client.post(SIGNUP, data=body, content_type="application/json")
    assert_error(response, 413, "payload_too_large")


def test_one_megabyte_post_is_413_payload_too_large(client, headers):
    body = '{"body": "' + "x" * (1024 * 1024) + '"}'
    response = client.post(POSTS, data=body, content_type="application/json", headers=headers)
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize("content_type,data", [
    ("text/plain", '{"email": "a@example.com", "password": "long enough"}'),
    ("application/x-www-form-urlencoded", "email=a%40example.com&password=long+enough"),
    ("application/xml", "<signup><email>a@example.com</email></signup>"),
], ids=["text-plain", "form", "xml"])
def test_non_json_content_type_with_body_is_415_unsupported_media_type(client, content_type, data):
    response = client.post(SIGNUP, data=data, content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")


def test_non_json_patch_is_415_unsupported_media_type(client, headers):
    response = client.patch(ME, data="name=Ann", content_type="application/x-www-form-urlencoded", headers=headers)
    assert_error(response, 415, "unsupported_media_type")


JSON_REJECTIONS = ((400, "malformed_json"), (422, "validation_error"))


def assert_rejected_as_bad_json(response, field: str | None = None) -> dict:
    """Refused as malformed JSON (400) or as an invalid value (422, naming ``field``): never a 500."""
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True))
    error = assert_error(response, response.status_code, response.get_json()["error"]["code"])
    assert (error["status"], error["code"]) in JSON_REJECTIONS, error
    if error["code"] == "validation_error" and field is not None:
        assert field in (error.get("fields") or {}), error
    return error


# A JSON string may spell a lone UTF-16 surrogate (\ud800): it decodes to text no database can store.
SURROGATE_CASES = {
    "signup-name": ("post", SIGNUP, '{"email": "s@example.com", "password": "long enough", "name": "x\\ud800"}',
                    "name", False),
    "signup-password": ("post", SIGNUP, '{"email": "s@example.com", "password": "long enough\\udfff"}',
                        "password", False),
    "login-email": ("post", "/api/v1/auth/login", '{"email": "x\\ud800@example.com", "password": "long enough"}',
                    "email", False),
    "login-password": ("post", "/api/v1/auth/login", '{"email": "a@example.com", "password": "long enough\\ud800"}',
                       "password", False),
    "post-body": ("post", POSTS, '{"body": "hello \\ud83d"}', "body", True),
    "post-title": ("post", POSTS, '{"title": "\\ude00", "body": "hello"}', "title", True),
    "profile-name": ("patch", ME, '{"name": "Ann \\ud800"}', "name", True),
}


@pytest.mark.parametrize("case", list(SURROGATE_CASES))
def test_lone_surrogate_in_json_string_is_4xx_not_500(client, headers, case):
    method, path, data, field, needs_auth = SURROGATE_CASES[case]
    response = getattr(client, method)(path, data=data, content_type="application/json",
                                       headers=headers if needs_auth else {})
    assert_rejected_as_bad_json(response, field)


def test_deeply_nested_json_is_4xx_not_500(client, headers):
    depth = 100_000  # 200 kB: under the body cap, far over Python's recursion limit
    response = client.post(POSTS, data="[" * depth + "]" * depth, content_type="application/json", headers=headers)
    assert_rejected_as_bad_json(response)


def test_deeply_nested_json_field_is_4xx_not_500(client):
    depth = 50_000
    data = '{"email": "a@example.com", "password": "long enough", "name": ' + "[" * depth + "]" * depth + "}"
    response = client.post(SIGNUP, data=data, content_type="application/json")
    assert_rejected_as_bad_json(response, "name")


def test_json_number_with_5000_digits_is_4xx_not_500(client, headers):
    response = client.post(POSTS, data='{"body": 1' + "0" * 5000 + "}", content_type="application/json",
                           headers=headers)
    assert_rejected_as_bad_json(response, "body")


def test_invalid_utf8_json_is_400_malformed_json(client, headers):
    response = client.post(POSTS, data=b'{"body": "\xff\xfe"}', content_type="application/json", headers=headers)
    assert_error(response, 400, "malformed_json")


def test_empty_json_body_is_422_naming_required_fields(client):
    response = client.post(SIGNUP, data="", content_type="application/json")
    error = assert_error(response, 422, "validation_error")
    assert {"email", "password"} <= set(error["fields"]), error


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json_number_for_a_string_is_422_naming_it(client, headers, literal):
    response = client.post(POSTS, data='{"body": ' + literal + "}", content_type="application/json", headers=headers)
    assert_field_error(response, "body")


NUL_CASES = {
    "signup-name": ("post", SIGNUP, {"email": "n@example.com", "password": "long enough", "name": "a\u0000b"},
                    "name", False),
    "login-email": ("post", "/api/v1/auth/login", {"email": "a\u0000@example.com", "password": "long enough"},
                    "email", False),
    "post-body": ("post", POSTS, {"body": "a\u0000b"}, "body", True),
    "post-title": ("post", POSTS, {"title": "a\u0000b", "body": "hello"}, "title", True),
}


@pytest.mark.parametrize("case", list(NUL_CASES))
def test_nul_character_in_a_string_is_4xx_on_postgresql(pg_client, case):
    """PostgreSQL text cannot hold U+0000: the production database must refuse it as bad input, not crash."""
    method, path, payload, field, needs_auth = NUL_CASES[case]
    headers = {}
    if needs_auth:
        session = pg_client.post(SIGNUP, json={"email": "writer@example.com", "password": "long enough"})
        assert session.status_code == 201, session.get_data(as_text=True)
        headers = {"Authorization": f"Bearer {session.json['access_token']}"}
    response = getattr(pg_client, method)(path, json=payload, headers=headers)
    if path == "/api/v1/auth/login" and response.status_code == 401:  # refusing the login alike is fine too
        assert_error(response, 401, "invalid_credentials")
        return
    assert_field_error(response, field)


# --- over-long values -------------------------------------------------------------------------

def test_name_over_100_characters_is_422_naming_name(client):
    response = client.post(SIGNUP, json={"email": "a@example.com", "password": "long enough", "name": "n" * 101})
    assert_field_error(response, "name")


def test_profile_name_over_100_characters_is_422_naming_name(client, headers):
    response = client.patch(ME, json={"name": "n" * 101}, headers=headers)
    assert_field_error(response, "name")


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


def test_password_over_128_characters_is_422_naming_password(client):
    response = client.post(SIGNUP, json={"email": "a@example.com", "password": "p" * 129})
    assert_field_error(response, "password")


def test_login_password_over_128_characters_is_422_naming_password(client):
    response = client.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "p" * 129})
    assert_field_error(response, "password")


def test_email_over_254_characters_is_422_naming_email(client):
    email = "a" * 64 + "@" + ".".join(["d" * 60] * 4) + ".com"
    response = client.post(SIGNUP, json={"email": email, "password": "long enough"})
    assert_field_error(response, "email")


# --- routes and methods -----------------------------------------------------------------------

def test_unknown_route_is_404_not_found_json(client):
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")


def test_unknown_route_outside_api_is_404_not_found_json(client):
    assert_error(client.post("/wp-login.php", json={"x": 1}), 404, "not_found")


@pytest.mark.parametrize("method,path,allowed", [
    ("delete", POSTS, {"GET", "POST"}),
    ("put", f"{POSTS}/1", {"GET", "PATCH", "DELETE"}),
    ("get", SIGNUP, {"POST"}),
    ("put", f"{POSTS}/1/like", {"POST", "DELETE"}),
    ("post", ME, {"GET", "PATCH"}),
], ids=["delete-posts", "put-post", "get-signup", "put-like", "post-me"])
def test_wrong_method_is_405_method_not_allowed_with_allow_header(client, method, path, allowed):
    response = getattr(client, method)(path, json={})
    assert_error(response, 405, "method_not_allowed")
    assert "Allow" in response.headers
    listed = {name.strip() for name in response.headers["Allow"].split(",")}
    assert allowed <= listed, listed
    assert method.upper() not in listed, listed


# --- ids --------------------------------------------------------------------------------------

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


def test_missing_user_is_404_user_not_found(client):
    assert_error(client.get("/api/v1/users/12345"), 404, "user_not_found")


NOT_FOUND_CODES = ("not_found", "post_not_found", "user_not_found")


@pytest.mark.parametrize("bad_id", ["99999999999999999999", "2147483648"])
@pytest.mark.parametrize("method,path", [
    ("get", POSTS + "/{}"), ("patch", POSTS + "/{}"), ("delete", POSTS + "/{}"),
    ("post", POSTS + "/{}/like"), ("delete", POSTS + "/{}/like"), ("get", POSTS + "/{}/likes"),
    ("get", "/api/v1/users/{}"),
])
def test_overflowing_id_is_404_json_not_500(client, headers, method, path, bad_id):
    json = {"body": "changed"} if method == "patch" else None
    response = getattr(client, method)(path.format(bad_id), json=json, headers=headers)
    assert response.status_code == 404, response.get_data(as_text=True)
    error = assert_error(response, 404, response.get_json()["error"]["code"])
    assert error["code"] in NOT_FOUND_CODES, error


@pytest.mark.parametrize("bad_id", ["0", "-1", "-2147483648", "00", "1.5", "abc", "1e3", "1" + "0" * 5000])
@pytest.mark.parametrize("path", [POSTS + "/{}", "/api/v1/users/{}"])
def test_id_zero_negative_or_not_an_integer_is_404_json(client, path, bad_id):
    response = client.get(path.format(bad_id))
    assert response.status_code == 404, response.get_data(as_text=True)
    error = assert_error(response, 404, response.get_json()["error"]["code"])
    assert error["code"] in NOT_FOUND_CODES, error


def test_patch_with_id_zero_is_404_json(client, headers):
    response = client.patch(f"{POSTS}/0", json={"body": "x"}, headers=headers)
    assert response.status_code == 404, response.get_data(as_text=True)
    error = assert_error(response, 404, response.get_json()["error"]["code"])
    assert error["code"] in ("not_found", "post_not_found"), error


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


# --- tokens -----------------------------------------------------------------------------------

def test_missing_authorization_is_401_authorization_required(client):
    assert_error(client.get(ME), 401, "authorization_required")


def test_missing_authorization_on_write_is_401_authorization_required(client):
    assert_error(client.post(POSTS, json={"body": "hello"}), 401, "authorization_required")


def test_non_bearer_authorization_is_401_authorization_required(client):
    assert_error(client.get(ME, headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401, "authorization_required")


@pytest.mark.parametrize("token", ["abc", "a.b.c", "Bearer", "....", "eyJhbGciOiJub25lIn0.e30."])
def test_garbage_token_is_401_invalid_token(client, token):
    assert_error(client.get(ME, headers={"Authorization": f"Bearer {token}"}), 401, "invalid_token")


def test_tampered_jwt_signature_is_401_invalid_token(client, signup):
    _, headers = signup()
    token = headers["Authorization"].removeprefix("Bearer ")
    head, payload, signature = token.split(".")
    tampered = ".".join([head, payload, change_char(signature, len(signature) // 2)])
    assert client.get(ME, headers=headers).status_code == 200
    assert_error(client.get(ME, headers={"Authorization": f"Bearer {tampered}"}), 401, "invalid_token")


def test_tampered_jwt_payload_is_401_invalid_token(client, signup):
    _, headers = signup()
    token = headers["Authorization"].removeprefix("Bearer ")
    head, payload, signature = token.split(".")
    tampered = ".".join([head, change_char(payload, 10), signature])
    assert_error(client.get(ME, headers={"Authorization": f"Bearer {tampered}"}), 401, "invalid_token")


def test_jwt_signed_with_another_key_is_401_invalid_token(client, signup):
    _, headers = signup()
    token = headers["Authorization"].removeprefix("Bearer ")
    claims = pyjwt.decode(token, options={"verify_signature": False})
    forged = pyjwt.encode(claims, "another key entirely, long enough for HS256 " * 2, algorithm="HS256")
    assert_error(client.get(ME, headers={"Authorization": f"Bearer {forged}"}), 401, "invalid_token")


def test_unsigned_jwt_is_401_invalid_token(client, signup):
    _, headers = signup()
    token = headers["Authorization"].removeprefix("Bearer ")
    claims = pyjwt.decode(token, options={"verify_signature": False})
    unsigned = pyjwt.encode(claims, None, algorithm="none")
    assert_error(client.get(ME, headers={"Authorization": f"Bearer {unsigned}"}), 401, "invalid_token")


def test_expired_jwt_is_401_token_expired(client, in_app, user_id):
    token = in_app(create_access_token, str(user_id), expires_delta=timedelta(seconds=-60))
    assert_error(client.get(ME, headers={"Authorization": f"Bearer {token}"}), 401, "token_expired")


def test_refresh_token_used_as_access_token_is_401_invalid_token(client):
    response = client.post(SIGNUP, json={"email": "a@example.com", "password": "long enough"})
    assert response.status_code == 201
    refresh = response.json["refresh_token"]
    assert_error(client.get(ME, headers={"Authorization": f"Bearer {refresh}"}), 401, "invalid_token")


def test_access_token_used_as_refresh_token_is_401_invalid_token(client, signup):
    _, headers = signup()
    assert_error(client.post("/api/v1/auth/refresh", headers=headers), 401, "invalid_token")


def test_revoked_token_is_401_token_revoked(client, signup):
    _, headers = signup()
    assert client.get(ME, headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", json={}, headers=headers).status_code == 204
    assert_error(client.get(ME, headers=headers), 401, "token_revoked")


def test_revoked_refresh_token_is_401_token_revoked(client):
    session = client.post(SIGNUP, json={"email": "a@example.com", "password": "long enough"}).json
    headers = {"Authorization": f"Bearer {session['access_token']}"}
    logout = client.post("/api/v1/auth/logout", json={"refresh_token": session["refresh_token"]}, headers=headers)
    assert logout.status_code == 204
    refresh = client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {session['refresh_token']}"})
    assert_error(refresh, 401, "token_revoked")


def test_logout_with_garbage_refresh_token_is_422_naming_refresh_token(client, signup):
    _, headers = signup()
    response = client.post("/api/v1/auth/logout", json={"refresh_token": "garbage"}, headers=headers)
    assert_field_error(response, "refresh_token")


def test_token_of_deleted_user_is_401_invalid_token(client, in_app, user_id, headers):
    def delete_user():
        db.session.delete(db.session.get(User, user_id))
        db.session.commit()

    assert client.get(ME, headers=headers).status_code == 200
    in_app(delete_user)
    assert_error(client.get(ME, headers=headers), 401, "invalid_token")


# --- every route ------------------------------------------------------------------------------

JUNK_BODIES = {
    "junk-object": ('{"junk": [1, {"x": null}], "email": 5, "password": [], "body": {}, "title": 1.5}',
                    "application/json"),
    "array": ("[1, 2, 3]", "application/json"),
    "malformed": ('{"unterminated": ', "application/json"),
    "text": ("just some text", "text/plain"),
}
GARBAGE_IDS = ["1", "abc", "0", "2147483648", "99999999999999999999", "2147483647", "%00"]
SKIPPED_METHODS = {"HEAD"}


def fill_rule(rule: str, garbage: str) -> str:
    """A concrete path for a URL rule: ``garbage`` for every variable (``swagger`` for the docs page)."""
    def value(match):
        converter = match.group(1) or ""
        return "swagger" if converter.startswith("any(") else garbage

    return re.sub(r"<(?:([^:>]+):)?([^>]+)>", value, rule)


@pytest.mark.parametrize("garbage", GARBAGE_IDS)
@pytest.mark.parametrize("body_kind", list(JUNK_BODIES))
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_every_route_answers_junk_without_5xx(app, client, in_app, user_id, auth_headers, garbage, body_kind,
                                             signed_in):
    in_app(new_post_id)  # post 1, by someone else: something for the lists to list and the id routes to find
    data, content_type = JUNK_BODIES[body_kind]
    failures = []
    walked = 0
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - SKIPPED_METHODS):
            path = fill_rule(rule.rule, garbage)
            headers = auth_headers(user_id) if signed_in else {}  # a fresh token: /logout revokes its own
            query = f"?limit={garbage}&cursor={garbage}&author_id={garbage}"
            response = client.open(path + query, method=method, data=data, content_type=content_type,
                                   headers=headers)
            walked += 1
            status = response.status_code
            if status >= 500:
                failures.append(f"{method} {path}{query}: {status} {response.get_data(as_text=True)[:200]}")
            elif status >= 400:
                body = response.get_json(silent=True)
                error = body.get("error") if isinstance(body, dict) else None
                if not (isinstance(error, dict) and error.get("status") == status
                        and isinstance(error.get("code"), str) and isinstance(error.get("message"), str)):
                    failures.append(f"{method} {path}{query}: {status} not the error shape: "
                                    f"{response.get_data(as_text=True)[:200]}")
            response.close()
    assert walked >= 20, walked  # every API route was reached
    assert not failures, "\n".join(failures)
