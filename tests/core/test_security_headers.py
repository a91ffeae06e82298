"""Headers every response carries, the pages' Content-Security-Policy, and the request body cap."""

import base64
import hashlib
import http.client
import io
import os
import re
from urllib.parse import urlsplit

import pytest

from tests.accounts import PASSWORD
from tests.conftest import CHROMIUM, required
from tests.servers import gunicorn
from tests.core.test_production import embedded_server_env, run_entry_point

LIMIT = 256 * 1024
PAGE_POLICY = "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; form-action 'self'"


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        assert name not in parsed, name
        parsed[name] = values
    return parsed


def sha256_source(script: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/users/me", "/api/v1/nothing", "/openapi.json", "/docs",
                                  "/docs/assets/redoc/redoc.standalone.js"])
def test_every_response_forbids_sniffing_and_framing(client, path):
    response = client.get(path)
    try:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
    finally:
        response.close()


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/users/me", "/api/v1/nothing", "/", "/signin", "/docs"])
def test_every_response_keeps_its_address_from_other_sites(client, path):
    response = client.get(path)
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_https_answers_ask_browsers_to_stay_on_https(client):
    response = client.get("/healthz", base_url="https://agora.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_plain_http_answers_carry_no_hsts_whatever_the_client_claims(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    claimed = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})  # no trusted proxy: not believed
    assert "Strict-Transport-Security" not in claimed.headers


def test_behind_a_tls_proxy_answers_carry_hsts(make_app):
    client = make_app(TRUSTED_PROXIES=1).test_client()
    secure = client.get("/healthz", headers={"X-Forwarded-Proto": "https"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    plain = client.get("/healthz", headers={"X-Forwarded-Proto": "http"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in plain.headers


def test_token_answers_are_not_stored(client):
    signup = client.post("/api/v1/auth/signup", json={"email": "ada@example.com", "password": PASSWORD})
    login = client.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    refresh = client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {login.json['refresh_token']}"})
    assert (signup.status_code, login.status_code, refresh.status_code) == (201, 200, 200)
    for response in (signup, login, refresh):
        assert response.headers["Cache-Control"] == "no-store"


def test_api_answers_and_errors_are_not_stored(client, sign_up):
    _, headers = sign_up()
    assert client.get("/api/v1/users/me", headers=headers).headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/users/me").headers["Cache-Control"] == "no-store"


def test_documentation_assets_keep_their_own_caching(client):
    response = client.get("/docs/assets/swagger/swagger-ui.css")
    try:
        assert "max-age=86400" in response.headers["Cache-Control"]
        assert "no-store" not in response.headers["Cache-Control"]
    finally:
        response.close()


def test_json_answers_carry_no_page_policy(client):
    assert "Content-Security-Policy" not in client.get("/healthz").headers


def test_an_html_page_gets_the_self_only_policy(app):
    app.add_url_rule("/test/page", "test_page", lambda: "<!DOCTYPE html><p>hello</p>")
    response = app.test_client().get("/test/page")
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == PAGE_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"


def test_swagger_ui_may_run_its_own_inline_script_and_no_other(client):
    response = client.get("/docs")
    html = response.get_data(as_text=True)
    policy = directives(response.headers["Content-Security-Policy"])
    inline = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    assert len(inline) == 1 and "SwaggerUIBundle" in inline[0]
    assert policy["script-src"] == ["'self'", sha256_source(inline[0])]
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert policy["img-src"] == ["'self'", "data:"]  # the stylesheet's icons


def test_swagger_ui_asks_no_third_party_validator(client):
    assert '"validatorUrl": null' in client.get("/docs").get_data(as_text=True)


def test_redoc_may_style_inline_and_search_in_a_blob_worker(client):
    response = client.get("/redoc")
    policy = directives(response.headers["Content-Security-Policy"])
    assert "<script>" not in response.get_data(as_text=True)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["worker-src"] == ["'self'", "blob:"]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_scripts_and_styles_the_policy_allows(client, page):
    """Every script and stylesheet a page names comes from this origin, which the policy allows."""
    html = client.get(page).get_data(as_text=True)
    urls = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert urls
    for url in urls:
        assert not urlsplit(url).netloc and url.startswith("/docs/assets/"), url


# --- the request body cap (MAX_CONTENT_LENGTH) ---------------------------------------------------

def oversized_login() -> bytes:
    return b'{"email": "' + b"a" * LIMIT + b'", "password": "correct horse"}'


def chunked_post(client, path, body: bytes):
    """A body with Transfer-Encoding: chunked and no Content-Length, as gunicorn hands it on."""
    return client.post(path, input_stream=io.BytesIO(body),
                       headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


def test_a_body_over_the_cap_with_a_length_is_413(client):
    response = client.post("/api/v1/auth/login", data=oversized_login(), content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_a_chunked_body_over_the_cap_is_413_not_truncated(client):
    response = chunked_post(client, "/api/v1/auth/login", oversized_login())
    assert response.status_code == 413
    error = response.json["error"]
    assert (error["status"], error["code"]) == (413, "payload_too_large") and error["message"]


def test_a_chunked_body_padded_past_the_cap_is_413(client):
    """Truncated at the cap, this body would still be valid JSON."""
    body = b'{"email": "ada@example.com", "password": "correct horse"}'
    response = chunked_post(client, "/api/v1/auth/login", body + b" " * LIMIT)
    assert response.status_code == 413


def test_a_chunked_body_of_exactly_the_cap_is_read(client):
    body = b'{"email": "ada@example.com", "password": "correct horse"}'
    response = chunked_post(client, "/api/v1/auth/login", body + b" " * (LIMIT - len(body)))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_credentials"


def test_a_small_chunked_body_is_read(client):
    response = chunked_post(client, "/api/v1/auth/login", b'{"email": "ada@example.com"}')
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"password"}


# --- through gunicorn, as deployed ---------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("gunicorn")
    with gunicorn(embedded_server_env(home), home / "gunicorn.log") as url:
        yield urlsplit(url)


def raw_request(served, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection(served.hostname, served.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {}, encode_chunked=body is not None
                           and not isinstance(body, bytes))
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_gunicorn_names_no_server_version(served):
    for path in ("/healthz", "/docs", "/api/v1/nothing"):
        _, headers, _ = raw_request(served, "GET", path)
        assert headers.get_all("Server") == ["gunicorn"], path


def test_gunicorn_answers_carry_the_security_headers(served):
    _, headers, _ = raw_request(served, "GET", "/docs")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain HTTP
    assert "script-src 'self' 'sha256-" in headers["Content-Security-Policy"]


def test_gunicorn_refuses_a_chunked_body_over_the_cap(served):
    def chunks():
        yield b'{"email": "'
        for _ in range(LIMIT // 8192 + 2):
            yield b"a" * 8192
        yield b'", "password": "correct horse"}'

    status, headers, body = raw_request(served, "POST", "/api/v1/auth/login", body=chunks(),
                                        headers={"Content-Type": "application/json"})
    assert status == 413
    assert b'"code":"payload_too_large"' in body


def test_gunicorn_reads_a_small_chunked_body(served):
    status, _, body = raw_request(served, "POST", "/api/v1/auth/login", body=iter([b'{"email":', b' "x"}']),
                                  headers={"Content-Type": "application/json"})
    assert status == 422
    assert b'"password"' in body


# Chromium logs each blocked action as a console message: "<action> violates the following Content Security Policy ..."
VIOLATION = re.compile(r'"((?:Loading the \w+ \'(?P<url>[^\']+)\' )?'
                       r'[^"]*violates the following Content Security Policy)')


@pytest.mark.parametrize("page, rendered", [("/docs", 'class="opblock-summary-path"'),
                                            ("/redoc", "Exchange an email and password for tokens")])
def test_docs_pages_render_in_a_browser_under_their_policy(served, tmp_path, page, rendered):
    if not os.access(CHROMIUM, os.X_OK):
        required("Chromium", f"it is not at {CHROMIUM} (make test puts it there with apt-get)")
    result = run_entry_point(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000", "--dump-dom",
         f"http://{served.netloc}{page}"],
        {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}, timeout=90)
    assert rendered in result.stdout, result.stderr[-3000:]
    blocked = [match.group(1) for match in VIOLATION.finditer(result.stderr)
               if not (match.group("url") or "").startswith("https://")]  # ReDoc's logo from its CDN stays blocked
    assert not blocked, blocked
    assert "Uncaught" not in result.stderr, result.stderr[-3000:]  # e.g. a SecurityError from a refused Worker
