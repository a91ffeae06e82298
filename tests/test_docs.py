"""The OpenAPI document, and Swagger UI and ReDoc served offline from the app itself."""

import json
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
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
