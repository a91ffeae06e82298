"""Where a sign-in SMS goes: one object per SMS_BACKEND, each with ``send(phone, body, attempt) -> Outcome``.

``console`` and ``outbox`` are development backends that stand in for a gateway: they wait the
simulated gateway delay (SMS_DELAY_SECONDS) before a first attempt, and they show the code (in the
log, or at the outbox route), so production refuses them. ``twilio`` sends for real and has no
simulated delay: its latency is the gateway's own.
"""

import logging
import random
import time
from typing import Protocol

from flask import current_app

from app.core import metrics
from app.core.logs import masked
from app.core.retries import Outcome, call_again, retry_policy
from app.integrations.http import ProviderUnreachable
from app.integrations.twilio import TwilioClient
from app.phone.models import add_to_outbox
from app.phone.rules import twilio_outcome

log = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, phone: str, body: str, attempt: int) -> Outcome: ...


class SimulatedGateway:
    """A development backend: the gateway's delay, then ``deliver``."""

    name = "simulated"

    def __init__(self, delay_seconds: tuple[float, float]):
        self.delay_seconds = delay_seconds

    def send(self, phone: str, body: str, attempt: int) -> Outcome:
        if attempt == 1:
            time.sleep(random.uniform(*self.delay_seconds))  # in the worker's slot, never the request's
        self.deliver(phone, body)
        metrics.PHONE_CODES_DELIVERED.labels(self.name).inc()
        return Outcome(status="sent")

    def deliver(self, phone: str, body: str) -> None:
        raise NotImplementedError


class ConsoleBackend(SimulatedGateway):
    """Writes the message to the log: the console backend exists to show the code."""

    name = "console"

    def deliver(self, phone: str, body: str) -> None:
        log.info("sms_console to=%s body=%r", phone, body)


class OutboxBackend(SimulatedGateway):
    """Keeps the message in the phone's outbox in Redis, readable at ``GET /api/v1/dev/sms-outbox``."""

    name = "outbox"

    def deliver(self, phone: str, body: str) -> None:
        add_to_outbox(phone, body)


class TwilioBackend:
    """Twilio's Messages API; a timeout, a 429 or a 5xx is tried again with backoff, then ``failed``."""

    def __init__(self, client: TwilioClient):
        self.client = client

    def send(self, phone: str, body: str, attempt: int) -> Outcome:
        try:
            answer = self.client.send(phone, body, attempt=attempt)
        except ProviderUnreachable as unreachable:
            outcome = call_again(attempt, retry_policy(), reason=unreachable.kind, give_up_as="failed")
        else:
            outcome = twilio_outcome(answer.status_code, answer.body, answer.retry_after, attempt, retry_policy())
        if outcome.final:
            log.info("sms_twilio to=%s status=%s reason=%s", masked(phone), outcome.status, outcome.reason)
            if outcome.status == "sent":
                metrics.PHONE_CODES_DELIVERED.labels("twilio").inc()
            else:  # the reason's first word only (status_400, timeout): Twilio's own codes would be unbounded
                reason = (outcome.reason or outcome.status or "failed").split()[0]
                metrics.PHONE_CODES_UNDELIVERED.labels("twilio", reason).inc()
        return outcome


def console_backend(config) -> SmsBackend:
    return ConsoleBackend(config["SMS_DELAY_SECONDS"])


def outbox_backend(config) -> SmsBackend:
    return OutboxBackend(config["SMS_DELAY_SECONDS"])


def twilio_backend(config) -> SmsBackend:
    return TwilioBackend(TwilioClient(base_url=config["TWILIO_BASE_URL"], account_sid=config["TWILIO_ACCOUNT_SID"] or "",
                                      auth_token=config["TWILIO_AUTH_TOKEN"] or "", sender=config["TWILIO_FROM"] or "",
                                      timeout=config["TWILIO_TIMEOUT_SECONDS"]))


# SMS_BACKEND -> how to build it from the app's configuration (config.SMS_BACKENDS names the same three).
BACKENDS = {"console": console_backend, "outbox": outbox_backend, "twilio": twilio_backend}


def configured_backend() -> SmsBackend:
    """The backend SMS_BACKEND names."""
    config = current_app.config
    return BACKENDS[config["SMS_BACKEND"]](config)
