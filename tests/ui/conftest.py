"""Browser tests: the app on a real HTTP server in a thread, driven by Debian's Chromium through Playwright."""

import json
import threading
from dataclasses import dataclass, field
from itertools import count

import pytest
from datetime import timedelta

from flask import Flask
from flask_jwt_extended import create_access_token, decode_token
from werkzeug.serving import make_server

from app.extensions import db
from tests.accounts import bearer, sign_up_answer
from tests.conftest import build_app, teardown_app

# Records the page's CSP violations (init scripts run whatever the page's policy says).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (event) => window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`));
"""

_emails = count(1)


@dataclass
class Site:
    """The app served on a free 127.0.0.1 port, with API shortcuts for a test's set-up."""

    url: str
    app: Flask

    def sign_up(self, name: str) -> dict:
        """A new email user, through the API: their profile, plus ``refresh_token`` and ``headers``."""
        answer = sign_up_answer(self.app.test_client(), f"{name.lower()}{next(_emails)}@example.com", name=name)
        return {**answer["user"], "refresh_token": answer["refresh_token"], "headers": bearer(answer["access_token"])}

    def api(self, method: str, path: str, user: dict, **json):
        answer = self.app.test_client().open(f"/api/v1{path}", method=method, json=json, headers=user["headers"])
        assert answer.status_code < 300, answer.json
        return answer.get_json(silent=True)


def hold_session(page, user: dict, access_token: str) -> None:
    """Put ``user``'s tokens in the page's tab as signing in does, with ``access_token`` for the access token."""
    page.goto("/signin")
    page.evaluate("""([access, refresh, user]) => {
        sessionStorage.setItem("agora.access_token", access);
        sessionStorage.setItem("agora.refresh_token", refresh);
        sessionStorage.setItem("agora.user", user);
    }""", [access_token, user["refresh_token"], json.dumps({"id": user["id"], "name": user["name"]})])


def expiring_access_token(app, user: dict, seconds: float) -> str:
    """An access token of ``user``'s session (from its refresh token) that expires in ``seconds``."""
    with app.app_context():
        claims = decode_token(user["refresh_token"])
        return create_access_token(str(user["id"]), additional_claims={"gen": claims["gen"], "sid": claims["sid"]},
                                   expires_delta=timedelta(seconds=seconds))


def bodies_closed_at_once(app):
    """Every answer but the event stream read whole and closed before werkzeug's dev server writes it.

    When a browser drops a connection (a page moving on), that server can fail while it drains the socket,
    before it closes the answer's body: a static file's stays open, a ResourceWarning for a later test.
    """
    def serve(environ, start_response):
        body = app(environ, start_response)
        if environ.get("PATH_INFO") == "/api/v1/events":
            return body
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()
    return serve


@pytest.fixture
def site(tmp_path):
    # A short heartbeat: the server learns of a page gone (a stream it still holds) at its next write, and frees its place.
    app = build_app(tmp_path, SMS_BACKEND="outbox", SMS_DELAY_SECONDS=(0.0, 0.0), MAIL_BACKEND="outbox",
                    EVENTS_HEARTBEAT_SECONDS=1)
    with app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", 0, bodies_closed_at_once(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    thread.join()
    server.server_close()
    hub = app.extensions.get("events_hub")
    if hub is not None:  # the pages' streams started it: its reader thread must not outlive the app
        hub.stop()
    teardown_app(app)


@dataclass
class Shots:
    """Screenshots of a test's pages, kept in its temporary folder."""

    folder: object
    taken: list = field(default_factory=list)

    def __call__(self, page, name: str):
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)


@pytest.fixture
def shot(tmp_path):
    return Shots(tmp_path)


@pytest.fixture
def person(browser, site):
    """A new browser context per person (its own sessionStorage, so its own session); returns its page.

    Each page records its console messages in ``page.console_messages``.
    """
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    contexts = []

    def person(width: int = 1024, height: int = 800):
        context = browser.new_context(base_url=site.url, viewport={"width": width, "height": height},
                                      permissions=["clipboard-read", "clipboard-write"])
        context.set_default_timeout(10_000)
        context.add_init_script(RECORD_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        page.console_messages = []
        page.on("console", lambda message: page.console_messages.append(f"{message.type}: {message.text}"))
        return page

    yield person
    for context in contexts:
        context.close()
