"""Bad request plumbing is a 4xx in the error shape, never a 500: bodies, routes and methods, ids, every route."""

import re

import pytest

from tests.accounts import bearer
from tests.errors import ME, POSTS, SIGNUP, assert_error, assert_field_error, new_post_id

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


def test_empty_json_body_is_422_naming_required_fields(client):
    response = client.post(SIGNUP, data="", content_type="application/json")
    error = assert_error(response, 422, "validation_error")
    assert {"email", "password"} <= set(error["fields"]), error


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
        headers = bearer(session.json["access_token"])
    response = getattr(pg_client, method)(path, json=payload, headers=headers)
    if path == "/api/v1/auth/login" and response.status_code == 401:  # refusing the login alike is fine too
        assert_error(response, 401, "invalid_credentials")
        return
    assert_field_error(response, field)


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


# Unicode decimal digits that werkzeug's `\d+` and Python's int() both accept: full-width, Arabic-Indic,
# Devanagari, mathematical bold; and an ASCII digit beside a full-width one.
NON_ASCII_ONES = ["\uff11", "\u0661", "\u0967", "\U0001d7cf", "\uff10\uff11", "1\uff10"]


@pytest.mark.parametrize("spelling", NON_ASCII_ONES, ids=["fullwidth", "arabic-indic", "devanagari", "math-bold",
                                                          "fullwidth-01", "mixed-10"])
def test_ids_in_other_digits_than_ascii_are_404_on_every_route_with_an_id(app, client, sign_up, spelling):
    author, author_headers = sign_up()
    other, headers = sign_up()
    assert client.post(POSTS, json={"body": "first"}, headers=author_headers).status_code == 201
    assert client.post("/api/v1/conversations", json={"title": "t", "participant_ids": [author["id"]]},
                       headers=headers).status_code == 201
    assert client.get(f"{POSTS}/1").status_code == 200  # the ASCII id names something
    walked = []
    for rule in app.url_map.iter_rules():
        if "<id:" not in rule.rule:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = re.sub(r"<id:[^>]+>", spelling, rule.rule)
            response = client.open(path, method=method, json={"body": "x"} if method in ("POST", "PATCH") else None,
                                   headers=headers)
            walked.append(f"{method} {rule.rule}")
            assert_error(response, 404, "not_found")
    assert len(walked) >= 10, walked


@pytest.mark.parametrize("query, field", [("author_id=\uff11", "author_id"), ("limit=\uff15", "limit"),
                                          ("limit=\u0665", "limit"), ("author_id=1\uff10", "author_id")])
def test_integers_in_a_query_in_other_digits_than_ascii_are_422(client, query, field):
    assert_field_error(client.get(f"{POSTS}?{query}"), field)

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


# --- what the document says, the server does (tests/contract runs schemathesis on both) ---------

@pytest.mark.parametrize("query", ["cursor=a.b&cursor=c.d", "limit=5&limit=6"])
def test_a_query_parameter_given_twice_is_422_naming_it(client, query):
    response = client.get(f"{POSTS}?{query}")
    error = assert_error(response, 422, "validation_error")
    assert error["fields"] == {query.split("=")[0]: ["Give this parameter once."]}


def test_an_unknown_query_parameter_given_twice_is_still_ignored(client):
    assert client.get(f"{POSTS}?utm_source=a&utm_source=b").status_code == 200


def test_a_cursor_of_another_shape_is_400_invalid_cursor(client):
    assert_error(client.get(f"{POSTS}?cursor=not-a-cursor"), 400, "invalid_cursor")


def test_length_is_measured_before_trimming(client, headers):
    """maxLength is the document's: 200 characters with spaces around them are over a title's 200."""
    response = client.post(POSTS, json={"title": f" {'t' * 200} ", "body": "hello"}, headers=headers)
    assert_field_error(response, "title")
    fits = client.post(POSTS, json={"title": f" {'t' * 198} ", "body": "hello"}, headers=headers)
    assert fits.status_code == 201 and fits.json["title"] == "t" * 198


@pytest.mark.parametrize("blank", ["\f", "\u00a0", " \u3000 ", "\x1c", "\u2028"])
def test_text_of_whitespace_only_is_422(client, headers, blank):
    """The document's pattern (a character trimming keeps) is Python's str.strip() set."""
    assert_field_error(client.post(POSTS, json={"body": blank}, headers=headers), "body")


def test_text_starting_with_a_byte_order_mark_is_text(client, headers):
    """U+FEFF is whitespace to ECMA's \\s but not to str.strip(): the document's pattern lists the set."""
    assert client.post(POSTS, json={"body": "\ufeff"}, headers=headers).status_code == 201


def test_an_empty_post_change_is_422(client, headers):
    post_id = client.post(POSTS, json={"body": "hello"}, headers=headers).json["id"]
    assert_error(client.patch(f"{POSTS}/{post_id}", json={}, headers=headers), 422, "validation_error")
