"""Mail tests run on the outbox backend unless a test says otherwise: codes are read where a person would."""

import pytest


@pytest.fixture
def mail_app(make_app):
    """Builds an app with the outbox mail backend; overrides per test."""
    return lambda **overrides: make_app(**{"MAIL_BACKEND": "outbox", **overrides})


@pytest.fixture
def client(mail_app):
    return mail_app().test_client()

