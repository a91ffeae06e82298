"""Reading mailed codes as their addressee would: from the outbox backend's dev route."""

import re

from app.extensions import redis_store
from tests.outboxes import newest_code

CODE_RE = re.compile(r"code is (\d{6})\.")


def mail_outbox(client, email):
    return client.get("/api/v1/dev/mail-outbox", query_string={"email": email})


def mailed_code(client, email, *, count=1, timeout=5.0) -> str:
    """Wait for the ``count``-th mail to ``email`` in the outbox and return the newest code."""
    return newest_code(lambda: mail_outbox(client, email).json["items"], CODE_RE, count=count, timeout=timeout,
                       what="mail")


def end_cooldown(client, email, purpose="confirm") -> None:
    """Let a test ask for a second code at once, as if the resend cooldown had passed."""
    with client.application.app_context():
        redis_store.client.delete(redis_store.key("mail", purpose, email.lower(), "cooldown"))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"
