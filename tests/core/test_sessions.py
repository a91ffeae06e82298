"""Agora keeps no cookie session: none is read, none is written, and writing one is refused."""

import pytest
from flask import session


def test_no_response_sets_a_cookie(client, headers):
    for response in (client.get("/healthz"), client.get("/api/v1/users/me", headers=headers), client.get("/")):
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.headers.get("Vary", "")


def test_a_session_cookie_sent_by_a_client_is_not_read(app):
    with app.test_request_context(headers={"Cookie": "session=eyJ1c2VyIjoxfQ.forged.signature"}):
        app.preprocess_request()
        assert dict(session) == {}


def test_writing_to_the_session_is_refused_with_a_clear_error(app):
    with app.test_request_context():
        with pytest.raises(RuntimeError, match="no cookie session"):
            session["user"] = 1
