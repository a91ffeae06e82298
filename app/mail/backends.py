"""Where a mail goes: one object per MAIL_BACKEND, each with ``send(email, subject, body, attempt) -> Outcome``.

``console`` and ``outbox`` are development backends: they show the message (in the log, or at the
outbox route) to whoever can read those, so production refuses them. ``smtp`` hands the message to
a mail server with the standard library's ``smtplib``, upgrading to TLS with STARTTLS (verified
against the system's trust store) unless SMTP_STARTTLS=false.
"""

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

from flask import current_app

from app.core.logs import masked
from app.core.retries import Outcome, retry_policy
from app.mail.models import add_to_outbox
from app.mail.rules import smtp_outcome

log = logging.getLogger(__name__)


class MailBackend(Protocol):
    def send(self, email: str, subject: str, body: str, attempt: int) -> Outcome: ...


class ConsoleBackend:
    """Writes the message to the log: the console backend exists to show the code."""

    def send(self, email: str, subject: str, body: str, attempt: int) -> Outcome:
        log.info("mail_console to=%s subject=%r body=%r", email, subject, body)
        return Outcome(status="sent")


class OutboxBackend:
    """Keeps the message in the address's outbox in Redis, readable at ``GET /api/v1/dev/mail-outbox``."""

    def send(self, email: str, subject: str, body: str, attempt: int) -> Outcome:
        add_to_outbox(email, subject, body)
        return Outcome(status="sent")


class SmtpBackend:
    """A mail server over SMTP; a 4xx reply or a lost connection is tried again with backoff, then ``failed``."""

    def __init__(self, *, host: str, port: int, username: str | None, password: str | None, sender: str,
                 starttls: bool, timeout: float):
        self.host, self.port, self.username, self.password = host, port, username, password
        self.sender, self.starttls, self.timeout = sender, starttls, timeout

    def send(self, email: str, subject: str, body: str, attempt: int) -> Outcome:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, email, subject
        message.set_content(body)
        try:
            self.deliver(message)
            outcome = Outcome(status="sent")
        except smtplib.SMTPRecipientsRefused as refused:
            reply = next(iter(refused.recipients.values()), (None, b""))[0]
            outcome = smtp_outcome(reply, f"recipient_refused_{reply}", attempt, retry_policy())
        except smtplib.SMTPResponseException as error:
            outcome = smtp_outcome(error.smtp_code, f"smtp_{error.smtp_code}", attempt, retry_policy())
        except (smtplib.SMTPNotSupportedError, ssl.SSLError) as error:  # no STARTTLS, a bad certificate: for a person
            outcome = Outcome(status="failed", reason=type(error).__name__)
        except (smtplib.SMTPException, OSError) as error:  # refused or lost connections, timeouts
            outcome = smtp_outcome(None, type(error).__name__, attempt, retry_policy())
        if outcome.final:
            log.info("mail_smtp to=%s status=%s reason=%s", masked(email), outcome.status, outcome.reason)
        return outcome

    def deliver(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def smtp_backend(config) -> MailBackend:
    return SmtpBackend(host=config["SMTP_HOST"], port=config["SMTP_PORT"], username=config["SMTP_USERNAME"],
                       password=config["SMTP_PASSWORD"], sender=config["SMTP_FROM"],
                       starttls=config["SMTP_STARTTLS"], timeout=config["SMTP_TIMEOUT_SECONDS"])


# MAIL_BACKEND -> how to build it from the app's configuration (config.MAIL_BACKENDS names the same three).
BACKENDS = {"console": lambda config: ConsoleBackend(), "outbox": lambda config: OutboxBackend(), "smtp": smtp_backend}


def configured_backend() -> MailBackend:
    """The backend MAIL_BACKEND names."""
    config = current_app.config
    return BACKENDS[config["MAIL_BACKEND"]](config)
