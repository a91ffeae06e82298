"""The smtp mail backend against a real SMTP server on loopback (aiosmtpd): plain, STARTTLS with a login,
and failures that are tried again or not."""

import logging

import pytest

from app.mail.backends import SmtpBackend
from app.mail.services import deliver_mail_attempt, send_email_code
from app.mail.models import seal
from tests.mail.smtp_server import SmtpServer, self_signed_certificate

SENDER = "Agora <agora@example.com>"


def backend(server, **overrides) -> SmtpBackend:
    settings = {"host": "127.0.0.1", "port": server.port, "username": None, "password": None, "sender": SENDER,
                "starttls": False, "timeout": 5.0, **overrides}
    return SmtpBackend(**settings)


def send(app, smtp: SmtpBackend, attempt=1):
    with app.app_context():
        return smtp.send("ada@example.com", "Confirm your Agora address", "Your code is 123456.", attempt)


@pytest.fixture
def app(make_app):
    return make_app(INTEGRATION_MAX_ATTEMPTS=3, INTEGRATION_BACKOFF_SECONDS=0.01)


@pytest.fixture
def certificate(tmp_path, monkeypatch):
    """A self-signed certificate the client trusts: ssl's default context reads SSL_CERT_FILE."""
    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", cert)
    return cert, key


def test_a_plain_server_receives_the_message(app):
    with SmtpServer() as server:
        outcome = send(app, backend(server))
    assert (outcome.status, outcome.final) == ("sent", True)
    [message] = server.inbox.messages
    assert (message["From"], message["To"], message["Subject"]) == (SENDER, "ada@example.com",
                                                                     "Confirm your Agora address")
    assert message.get_payload().strip() == "Your code is 123456."
    assert server.inbox.envelopes[0].rcpt_tos == ["ada@example.com"]


def test_starttls_with_a_login_reaches_a_server_that_requires_both(app, certificate):
    with SmtpServer(tls=certificate, login=("agora", "s3cret")) as server:
        outcome = send(app, backend(server, host="localhost", starttls=True, username="agora", password="s3cret"))
    assert outcome.status == "sent"
    assert len(server.inbox.messages) == 1


def test_a_server_that_requires_starttls_refuses_a_plain_client(app, certificate):
    with SmtpServer(tls=certificate) as server:
        outcome = send(app, backend(server, host="localhost", starttls=False))
    assert outcome.status == "failed" and outcome.final  # 530: a 5xx, for a person to set SMTP_STARTTLS right
    assert server.inbox.messages == []


def test_an_untrusted_certificate_fails_at_once(app, tmp_path):
    cert, key = self_signed_certificate(tmp_path)  # not in the client's trust store
    with SmtpServer(tls=(cert, key)) as server:
        outcome = send(app, backend(server, host="localhost", starttls=True))
    assert (outcome.status, outcome.reason) == ("failed", "SSLCertVerificationError")
    assert server.inbox.messages == []


def test_a_wrong_login_fails_at_once(app, certificate):
    with SmtpServer(tls=certificate, login=("agora", "s3cret")) as server:
        outcome = send(app, backend(server, host="localhost", starttls=True, username="agora", password="wrong"))
    assert (outcome.status, outcome.reason) == ("failed", "smtp_535")


def test_a_server_saying_try_later_is_tried_again_then_failed(app):
    with SmtpServer() as server:
        server.inbox.reply = "451 4.3.0 Try again later"
        smtp = backend(server)
        first, last = send(app, smtp, attempt=1), send(app, smtp, attempt=3)
    assert (first.final, first.reason) == (False, "smtp_451") and first.retry_in > 0
    assert (last.status, last.final) == ("failed", True) and "gave up after 3 attempts" in last.reason


def test_a_permanent_refusal_fails_without_retry(app):
    with SmtpServer() as server:
        server.inbox.reply = "550 5.1.1 No such user"
        outcome = send(app, backend(server))
    assert (outcome.status, outcome.reason, outcome.final) == ("failed", "smtp_550", True)


def test_an_unreachable_server_is_tried_again(app):
    with SmtpServer() as server:
        port = server.port
    outcome = send(app, SmtpBackend(host="127.0.0.1", port=port, username=None, password=None, sender=SENDER,
                                    starttls=False, timeout=2.0))
    assert outcome.final is False and outcome.reason == "ConnectionRefusedError"


def test_a_code_goes_through_the_task_to_the_server(make_app):
    with SmtpServer() as server:
        app = make_app(MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_FROM=SENDER,
                       SMTP_STARTTLS=False)
        with app.app_context():
            send_email_code("grace@example.com", "reset")
        app.extensions["tasks"].shutdown(wait=True)
    [message] = server.inbox.messages
    assert message["Subject"] == "Reset your Agora password" and message["To"] == "grace@example.com"
    assert "Your Agora password reset code is" in message.get_payload()


def test_a_task_with_a_replaced_code_sends_nothing(make_app):
    with SmtpServer() as server:
        app = make_app(MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_FROM=SENDER)
        with app.app_context():
            assert deliver_mail_attempt("grace@example.com", "reset", seal("000000")) is None
    assert server.inbox.messages == []


def test_the_outcome_is_logged_without_the_whole_address(app, caplog):
    with SmtpServer() as server, caplog.at_level(logging.INFO, logger="app.mail.backends"):
        send(app, backend(server))
    [line] = [record.getMessage() for record in caplog.records if "mail_smtp" in record.getMessage()]
    assert "ada@example.com" not in line and "to=a…@example.com status=sent" in line
