"""The OpenAPI document, and Swagger UI and ReDoc served offline from the app itself."""

import json
import re
import threading
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from werkzeug.serving import make_server

from app.extensions import db
from tests.conftest import build_app, teardown_app

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
TOKEN_CODES = {"authorization_required", "invalid_token", "token_expired", "token_revoked"}
# What Swagger UI shows for a property without an example: the reader learns nothing from these.
PLACEHOLDERS = {"string", "additionalProp1", "user@example.com", "2019-08-24T14:15:22Z"}
CDN_HOSTS = ("jsdelivr", "unpkg", "cdnjs", "googleapis", "gstatic", "rebilly", "swagger.io", "redocly")


class AssetCollector(HTMLParser):
    """The ``src`` of every script and ``href`` of every link in a page."""

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append((tag, attrs["src"]))
        if tag == "link" and attrs.get("href"):
            self.urls.append((tag, attrs["href"]))


def page_assets(html: str) -> list[tuple[str, str]]:
    collector = AssetCollector()
    collector.feed(html)
    collector.close()
    return collector.urls


def openapi_path(rule: str) -> str:
    """``/api/v1/posts/<id:post_id>`` -> ``/api/v1/posts/{post_id}``."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)


@pytest.fixture
def spec(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True))


def test_openapi_json_is_valid_json_with_openapi_3(spec):
    assert isinstance(spec, dict)
    assert re.fullmatch(r"3\.\d+\.\d+", spec["openapi"]), spec["openapi"]
    assert spec["info"]["title"] == "Agora"
    assert spec["info"]["version"]
    assert isinstance(spec["paths"], dict) and spec["paths"]


def test_openapi_lists_every_api_v1_route(app, spec):
    rules = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    assert len(rules) >= 10, rules
    missing = {openapi_path(rule) for rule in rules} - set(spec["paths"])
    assert not missing, missing


def test_openapi_lists_every_method_of_every_api_v1_route(app, spec):
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        documented = {method.upper() for method in spec["paths"].get(openapi_path(rule.rule), {})}
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method not in documented:
                missing.append(f"{method} {rule.rule}")
    assert not missing, missing


def test_openapi_lists_the_probes(spec):
    assert {"/healthz", "/readyz"} <= set(spec["paths"])


def test_openapi_declares_bearer_auth_security_scheme(spec):
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"].lower() == "bearer"
    assert scheme.get("bearerFormat") == "JWT"


def test_openapi_protected_operations_require_bearer_auth(spec):
    for path, method in [("/api/v1/users/me", "get"), ("/api/v1/posts", "post"),
                         ("/api/v1/posts/{post_id}/like", "post"), ("/api/v1/auth/logout", "post")]:
        assert {"bearerAuth": []} in spec["paths"][path][method]["security"], (method, path)


def resolve(spec: dict, node: dict) -> dict:
    """Follow ``$ref`` pointers inside the document."""
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target = spec
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def test_openapi_documents_the_error_schema(spec):
    error = resolve(spec, spec["components"]["schemas"]["Error"])
    assert error["type"] == "object"
    assert error["required"] == ["error"]
    body = resolve(spec, error["properties"]["error"])
    assert set(body["properties"]) >= {"status", "code", "message", "fields"}
    assert set(body["required"]) == {"status", "code", "message"}
    assert body["properties"]["status"]["type"] == "integer"
    assert body["properties"]["code"]["type"] == "string"
    assert body["properties"]["message"]["type"] == "string"
    assert body["properties"]["fields"]["type"] == "object"


def test_openapi_error_responses_use_the_error_schema(spec):
    """Validation errors and the documented domain errors point at the one error schema."""
    refs = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue  # "parameters" shared by the path's operations
            for status, response in operation.get("responses", {}).items():
                if status.startswith(("4", "5")) or status == "default":
                    schema = resolve(spec, response).get("content", {}).get("application/json", {}).get("schema", {})
                    refs.append((f"{method} {path} {status}", schema.get("$ref")))
    assert refs
    wrong = [where for where, ref in refs if ref != "#/components/schemas/Error"]
    assert not wrong, wrong
    documented = {where.rsplit(" ", 1)[1] for where, _ in refs}
    assert {"404", "409", "422"} <= documented, documented


def test_openapi_documents_posts_not_found(spec):
    response = spec["paths"]["/api/v1/posts/{post_id}"]["get"]["responses"]["404"]
    assert "post_not_found" in response["description"]
    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_page_is_html(client, page):
    response = client.get(page)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "/openapi.json" in response.get_data(as_text=True)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_page_references_only_local_assets(client, page):
    html = client.get(page).get_data(as_text=True)
    assets = page_assets(html)
    assert any(tag == "script" for tag, _ in assets), assets
    for _, url in assets:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, url  # no http://, https:// or //host
    assert "http://" not in html and "https://" not in html
    for host in CDN_HOSTS:
        assert host not in html.lower(), host


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_page_assets_are_served_by_the_app(client, page):
    assets = page_assets(client.get(page).get_data(as_text=True))
    assert assets
    for tag, url in assets:
        response = client.get(urljoin(f"http://localhost{page}", url))
        try:
            assert response.status_code == 200, (url, response.status_code)
            body = response.get_data()
            assert len(body) > 10_000, (url, len(body))
            expected = "text/css" if tag == "link" else "javascript"
            assert expected in response.mimetype, (url, response.mimetype)
            assert not body.lstrip().startswith((b"<!DOCTYPE", b"<html", b'{"error"')), url
        finally:
            response.close()


def test_swagger_ui_page_loads_swagger_bundle_and_stylesheet(client):
    urls = {url for _, url in page_assets(client.get("/docs").get_data(as_text=True))}
    assert any(url.endswith("swagger-ui-bundle.js") for url in urls), urls
    assert any(url.endswith(".css") for url in urls), urls


def test_redoc_page_loads_redoc_standalone(client):
    urls = {url for _, url in page_assets(client.get("/redoc").get_data(as_text=True))}
    assert any(url.endswith("redoc.standalone.js") for url in urls), urls


@pytest.mark.parametrize("path", [
    "/docs/assets/swagger/nope.js",
    "/docs/assets/redoc/swagger-ui-bundle.js",
    "/docs/assets/swagger/index.html",
    "/docs/assets/other/redoc.standalone.js",
    "/docs/assets/swagger/..%2F..%2F__init__.py",
    "/docs/assets/redoc/",
])
def test_unknown_docs_asset_is_404_not_found(client, path):
    response = client.get(path)
    try:
        assert response.status_code == 404
        assert response.mimetype == "application/json"
        error = response.get_json()["error"]
        assert error["status"] == 404
        assert error["code"] == "not_found"
        assert error["message"]
    finally:
        response.close()


# --- what a newcomer needs from /docs and /redoc ----------------------------------------------------

def operations(spec: dict):
    """``(method, path, operation)`` for every operation of the document."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def bearer_operations(spec: dict):
    """The operations whose security names the bearer scheme, with whether it is optional."""
    for method, path, operation in operations(spec):
        security = operation.get("security") or []
        if any("bearerAuth" in requirement for requirement in security):
            yield method, path, operation, {} in security


# An error code where a response's description lists one: first, or after ", ", "; " or a list's "- ".
DOCUMENTED_CODE = re.compile(r"(?:^|, |; |\n- )`([a-z][a-z0-9_]*)`")


def answerable_codes() -> dict[str, set[int]]:
    """Every error code the server can answer, with its statuses: the error classes', the token and
    request errors', and werkzeug's by status."""
    from app.auth.tokens import TOKEN_ERRORS
    from app.core.errors import HTTP_CODES, DomainError
    from app.core.openapi import REQUEST_ERRORS

    codes: dict[str, set[int]] = {}
    classes = [DomainError]
    while classes:
        error = classes.pop()
        classes += error.__subclasses__()
        codes.setdefault(error.code, set()).add(error.status)
    for status, code in [*((401, code) for code in TOKEN_ERRORS), *HTTP_CODES.items(),
                         *((status, code) for status, code, _ in REQUEST_ERRORS.values())]:
        codes.setdefault(code, set()).add(status)
    return codes


def test_every_documented_error_code_is_one_the_server_answers_with_that_status(spec):
    codes = answerable_codes()
    documented, wrong = 0, []
    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            for code in DOCUMENTED_CODE.findall(resolve(spec, response)["description"]):
                documented += 1
                if int(status) not in codes.get(code, ()):
                    wrong.append(f"{method} {path} {status} `{code}`")
    assert wrong == []
    assert documented > 200, "the check no longer reads the descriptions"


def test_swagger_ui_keeps_the_token_across_reloads(client):
    html = client.get("/docs").get_data(as_text=True)
    assert '"persistAuthorization": true' in html


def test_the_description_says_how_to_get_a_token_and_where_errors_are(app, spec):
    description = spec["info"]["description"]
    for words in ("POST /api/v1/auth/signup", "/api/v1/auth/login", "/api/v1/auth/phone/code",
                  "/api/v1/auth/phone/verify", "Authorize", "access_token", "/api/v1/auth/refresh", "refresh_token",
                  "`Error` schema", '{"error": {"status", "code", "message", "fields"}}'):
        assert words in description, words
    # The lifetimes it states are the default configuration's.
    assert f"{app.config['JWT_ACCESS_MINUTES']} minutes" in description
    assert f"{app.config['JWT_REFRESH_DAYS']} days" in description


def test_every_operation_with_bearer_security_documents_401_with_the_error_schema(spec):
    found = list(bearer_operations(spec))
    assert len(found) >= 15, found
    for method, path, operation, optional in found:
        where = f"{method} {path}"
        assert "401" in operation["responses"], where
        response = resolve(spec, operation["responses"]["401"])
        content = response["content"]["application/json"]
        assert content["schema"] == {"$ref": "#/components/schemas/Error"}, where
        # Without a token, optional auth answers anonymously: authorization_required cannot happen there.
        expected = TOKEN_CODES - {"authorization_required"} if optional else TOKEN_CODES
        assert set(re.findall(r"`([a-z_]+)`", response["description"])) >= expected, where
        assert {example["value"]["error"]["code"] for example in content["examples"].values()} == expected, where
        for example in content["examples"].values():
            assert example["value"]["error"]["status"] == 401, where


def test_401_answers_carry_the_documented_codes(client, sign_up):
    _, headers = sign_up()
    assert client.get("/api/v1/users/me").json["error"]["code"] == "authorization_required"
    bad = {"Authorization": "Bearer not-a-token"}
    assert client.get("/api/v1/users/me", headers=bad).json["error"]["code"] == "invalid_token"
    # Optional auth: anonymous without a token, 401 for a bad one.
    assert client.get("/api/v1/posts").status_code == 200
    answer = client.get("/api/v1/posts", headers=bad)
    assert (answer.status_code, answer.json["error"]["code"]) == (401, "invalid_token")
    assert client.get("/api/v1/posts", headers=headers).status_code == 200


def test_optional_auth_operations_say_auth_is_optional(spec):
    optional = [(method, path, operation) for method, path, operation, is_optional in bearer_operations(spec)
                if is_optional]
    assert {("get", "/api/v1/posts"), ("post", "/api/v1/auth/phone/verify")} <= {(m, p) for m, p, _ in optional}
    for method, path, operation in optional:
        assert "Authentication is optional" in operation.get("description", ""), (method, path)
        assert operation["security"] == [{}, {"bearerAuth": []}], (method, path)  # the document keeps the truth


def referenced_schemas(spec: dict) -> set[str]:
    """Names of the component schemas the operations use, directly or through other schemas."""
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] not in found:
                found.add(ref.rsplit("/", 1)[1])
                walk(resolve(spec, node))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec["paths"])
    for name in list(spec["components"].get("responses", {})):
        walk(spec["components"]["responses"][name])
    return found


def request_body_schemas(spec: dict) -> set[str]:
    names = set()
    for _, _, operation in operations(spec):
        schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if "$ref" in schema:
            names.add(schema["$ref"].rsplit("/", 1)[1])
    return names


def is_reference(prop: dict) -> bool:
    """A property that is another schema (or a list of them): its own properties carry the examples."""
    if "$ref" in prop:
        return True
    if prop.get("type") == "array":
        return "$ref" in prop.get("items", {})
    return False


def example_problems(prop: dict, example) -> list[str]:
    """Why ``example`` does not fit ``prop`` (its type, lengths, pattern, enum, range, format); empty if it does."""
    if example is None:
        return [] if prop.get("nullable") else ["null but not nullable"]
    kind = prop.get("type")
    types = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}
    if kind in types and (not isinstance(example, types[kind]) or (kind == "integer" and isinstance(example, bool))):
        return [f"not {kind}"]
    problems = []
    if isinstance(example, str):
        if example in PLACEHOLDERS:
            problems.append("a placeholder")
        if len(example) < prop.get("minLength", 0) or len(example) > prop.get("maxLength", len(example)):
            problems.append("wrong length")
        if "pattern" in prop and not re.search(prop["pattern"], example):
            problems.append("does not match the pattern")
        if prop.get("format") == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", example):
            problems.append("not an email")
        if prop.get("format") == "date-time":
            try:
                if datetime.fromisoformat(example).tzinfo is None:
                    problems.append("no time zone")
            except ValueError:
                problems.append("not a date-time")
    if isinstance(example, int) and not prop.get("minimum", example) <= example <= prop.get("maximum", example):
        problems.append("out of range")
    if "enum" in prop and example not in prop["enum"]:
        problems.append("not in the enum")
    if isinstance(example, list):
        if not prop.get("minItems", 0) <= len(example) <= prop.get("maxItems", len(example)):
            problems.append("wrong number of items")
        for item in example:
            problems += [f"item: {problem}" for problem in example_problems(prop.get("items", {}), item)]
    if isinstance(example, dict) and "additionalProp1" in example:
        problems.append("a placeholder")
    return problems


def test_every_property_shows_a_realistic_example_that_fits_it(spec):
    """Every property of every schema the operations use, in requests and answers, has an example that its
    own rules accept; only references to other schemas (whose properties carry theirs) go without."""
    names = referenced_schemas(spec)
    assert request_body_schemas(spec) <= names and {"Signup", "Profile", "Post", "Error"} <= names, names
    missing, wrong = [], []
    for name in sorted(names):
        for prop_name, prop in resolve(spec, spec["components"]["schemas"][name]).get("properties", {}).items():
            where = f"{name}.{prop_name}"
            if "example" not in prop:
                if not is_reference(prop):
                    missing.append(where)
                continue
            wrong += [f"{where}: {problem}" for problem in example_problems(prop, prop["example"])]
    assert not missing, missing
    assert not wrong, wrong


def test_every_query_parameter_but_the_cursor_shows_an_example(spec):
    """A cursor is only valid as the server issued it: an invented one would be refused."""
    missing = [f"{method} {path} {parameter['name']}" for method, path, operation in operations(spec)
               for parameter in operation.get("parameters", [])
               if parameter.get("in") == "query" and parameter["name"] != "cursor"
               and "example" not in parameter.get("schema", {}) and "example" not in parameter]
    assert not missing, missing


def example_body(spec: dict, name: str) -> dict:
    """The request Swagger UI's "Try it out" fills in for schema ``name``, from its properties' examples."""
    properties = resolve(spec, spec["components"]["schemas"][name])["properties"]
    return {key: prop["example"] for key, prop in properties.items() if not prop.get("readOnly")}


def test_the_example_requests_work_as_they_are(client, spec):
    """Try it out, unchanged, signs up, logs in, writes a post and asks for a phone code."""
    signup = client.post("/api/v1/auth/signup", json=example_body(spec, "Signup"))
    assert signup.status_code == 201, signup.json  # the example password is not a commonly used one
    login = client.post("/api/v1/auth/login", json=example_body(spec, "Login"))
    assert login.status_code == 200, login.json
    headers = {"Authorization": f"Bearer {login.json['access_token']}"}
    post = client.post("/api/v1/posts", json=example_body(spec, "PostCreate"), headers=headers)
    assert post.status_code == 201, post.json
    assert client.patch(f"/api/v1/posts/{post.json['id']}", json=example_body(spec, "PostUpdate"),
                        headers=headers).status_code == 200
    code = client.post("/api/v1/auth/phone/code", json=example_body(spec, "PhoneCodeRequest"))
    assert code.status_code == 202, code.json


# --- Swagger UI in a real browser ---------------------------------------------------------------------

@pytest.fixture
def served(tmp_path):
    """The app on a free 127.0.0.1 port: ``(base url, app)``."""
    app = build_app(tmp_path)
    with app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join()
    server.server_close()
    teardown_app(app)


@pytest.fixture
def docs_page(browser, served):
    """Swagger UI at /docs, rendered; the page records its console errors in ``page.errors``."""
    url, _ = served
    context = browser.new_context(base_url=url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto("/docs")
    page.wait_for_selector(".opblock-summary")
    yield page
    context.close()


def drawn_padlocks(page) -> dict[tuple[str, str], bool]:
    """``(method, path) -> whether its summary draws a padlock``, for every operation Swagger UI shows."""
    rows = page.eval_on_selector_all(".opblock-summary", """summaries => summaries.map(summary => [
        summary.querySelector(".opblock-summary-method").textContent.toLowerCase(),
        summary.querySelector(".opblock-summary-path").getAttribute("data-path"),
        summary.querySelector(".authorization__btn") !== null])""")
    return {(method, path): locked for method, path, locked in rows}


def test_swagger_ui_draws_padlocks_only_where_a_token_is_needed(docs_page, client, spec):
    padlocks = drawn_padlocks(docs_page)
    assert set(padlocks) == {(method, path) for method, path, _ in operations(spec)}
    needs_token = {(method, path) for method, path, _, optional in bearer_operations(spec) if not optional}
    assert {operation for operation, drawn in padlocks.items() if drawn} == needs_token
    assert padlocks[("get", "/api/v1/posts")] is False and padlocks[("post", "/api/v1/posts")] is True
    assert not docs_page.errors, docs_page.errors


def test_swagger_ui_keeps_the_token_and_sends_it_to_optional_auth_operations(docs_page, served):
    _, app = served
    token = app.test_client().post("/api/v1/auth/signup", json={"email": "ada@example.com",
                                                                "password": "plum tractor sings"}).json["access_token"]
    page = docs_page
    page.locator(".auth-wrapper button.authorize").click()
    bearer = page.locator("form", has_text="bearerAuth (http, Bearer)")  # the stream's ticket has a form too
    bearer.locator("input").fill(token)
    bearer.locator(".auth-btn-wrapper button.authorize").click()
    bearer.locator(".auth-btn-wrapper button.btn-done").click()

    page.reload()
    page.wait_for_selector(".opblock-summary")
    assert "locked" in page.locator(".auth-wrapper button.authorize").get_attribute("class").split()

    listing = page.locator('.opblock-get:has(.opblock-summary-path[data-path="/api/v1/posts"])')
    listing.locator(".opblock-summary-control").click()
    listing.locator(".try-out__btn").click()
    with page.expect_request(lambda request: request.url.split("?")[0].endswith("/api/v1/posts")) as sent:
        listing.locator(".execute").click()
    assert sent.value.headers.get("authorization") == f"Bearer {token}"
    assert not page.errors, page.errors


# --- the document says exactly what the server does (tests/contract checks it with schemathesis) ---

def every_operation(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_the_error_schema_documents_every_field_an_error_can_carry(spec):
    body = resolve(spec, resolve(spec, spec["components"]["schemas"]["Error"])["properties"]["error"])
    assert {"request_id", "retry_after", "attempts_left", "checks"} <= set(body["properties"])
    assert body["additionalProperties"] is False
    assert body["properties"]["code"]["pattern"] == "^[a-z][a-z0-9]*(_[a-z0-9]+)*$"


def test_no_operation_hides_its_statuses_behind_a_default_response(spec):
    with_default = [f"{method} {path}" for path, method, operation in every_operation(spec) if "default" in operation["responses"]]
    assert not with_default


def test_every_body_operation_documents_415_and_every_body_400_and_413(spec):
    for path, method, operation in every_operation(spec):
        responses = operation["responses"]
        if method in ("post", "put", "patch"):
            assert "415" in responses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= set(responses), (method, path)
            assert "malformed_json" in json.dumps(resolve(spec, responses["400"])), (method, path)
        if path.startswith("/api/v1/"):
            assert {"414", "431", "503"} <= set(responses), (method, path)


def test_every_list_documents_400_invalid_cursor_and_the_cursors_shape(spec):
    lists = [(path, operation) for path, method, operation in every_operation(spec)
             if any(parameter["name"] == "cursor" for parameter in operation.get("parameters", []))]
    assert len(lists) == 5
    for path, operation in lists:
        assert "invalid_cursor" in json.dumps(resolve(spec, operation["responses"]["400"])), path
        cursor = next(parameter for parameter in operation["parameters"] if parameter["name"] == "cursor")
        assert cursor["schema"]["pattern"].isascii() and "nullable" not in cursor["schema"], path


def test_every_request_string_is_documented_without_nul(spec):
    bodies = {operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
              for _, _, operation in every_operation(spec) if "requestBody" in operation}
    assert len(bodies) >= 10
    for name in bodies:
        for field, schema in spec["components"]["schemas"][name]["properties"].items():
            if schema.get("type") == "string":
                pattern = re.compile(schema["pattern"])  # its own pattern, or the NUL-free one
                assert pattern.search("a\x00b") is None, (name, field)


def test_changes_say_they_need_a_field(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["PostUpdate"]["minProperties"] == 1
    assert {tuple(alternative["required"]) for alternative in schemas["ProfileUpdate"]["anyOf"]} == {
        ("name",), ("email",), ("password",)}


def test_the_patterns_are_the_servers(spec, client, headers):
    """The document's patterns, read as JSON Schema reads them, refuse what the server refuses."""
    schemas = spec["components"]["schemas"]
    body = re.compile(schemas["PostCreate"]["properties"]["body"]["pattern"])
    invite = re.compile(schemas["InviteActivation"]["properties"]["invite_code"]["pattern"])
    phone = re.compile(schemas["PhoneCodeRequest"]["properties"]["phone"]["pattern"])
    assert body.search("hello") and not body.search(" \u3000\f") and not body.search("a\x00")
    assert invite.search(" ab12cd ") and not invite.search("AB12C") and not invite.search("AB12CDE")
    assert phone.search("+7 (999) 123-45-67") and not phone.search("call me")
    assert client.post("/api/v1/users/me/invite", json={"invite_code": "AB12C!"}, headers=headers).status_code == 422
    assert client.post("/api/v1/auth/phone/code", json={"phone": "call me"}).status_code == 422


def test_links_point_at_operations_of_the_document(spec):
    found = 0
    for path, method, operation in every_operation(spec):
        for status, response in operation["responses"].items():
            for name, link in resolve(spec, response).get("links", {}).items():
                found += 1
                target_path, target_method = link["operationRef"][len("#/paths/"):].rsplit("/", 1)
                target_path = target_path.replace("~1", "/").replace("~0", "~")
                target = spec["paths"][target_path][target_method]
                parameters = {parameter["name"] for parameter in target.get("parameters", [])} | set(
                    re.findall(r"\{(\w+)\}", target_path))
                assert set(link["parameters"]) <= parameters, (method, path, status, name)
    assert found >= 20
    deleted = spec["paths"]["/api/v1/posts/{post_id}"]["delete"]["responses"]["204"]["links"]
    assert deleted["GetPost"]["parameters"] == {"post_id": "$request.path.post_id"}
