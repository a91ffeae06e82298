"""SMS backends: one object per SMS_BACKEND, the simulated gateway delay only in the development ones."""

import logging

import pytest

from app.config import SMS_BACKENDS
from app.core.retries import Outcome
from app.integrations.http import ProviderResponse, ProviderUnreachable
from app.phone import backends
from app.phone.backends import BACKENDS, ConsoleBackend, OutboxBackend, TwilioBackend, configured_backend
from app.phone.models import outbox_messages

PHONE = "+79991234567"


@pytest.fixture
def sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr(backends.time, "sleep", slept.append)
    return slept


def test_every_configurable_backend_has_an_object():
    assert set(BACKENDS) == set(SMS_BACKENDS)


@pytest.mark.parametrize("name, kind", [("console", ConsoleBackend), ("outbox", OutboxBackend), ("twilio", TwilioBackend)])
def test_sms_backend_picks_the_object(make_app, name, kind):
    app = make_app(SMS_BACKEND=name, TWILIO_ACCOUNT_SID="AC1", TWILIO_AUTH_TOKEN="t", TWILIO_FROM="+15005550006")
    with app.app_context():
        assert isinstance(configured_backend(), kind)


def test_the_console_backend_waits_the_gateway_delay_once_then_logs(ctx, sleeps, caplog):
    caplog.set_level(logging.INFO, logger="app.phone.backends")
    backend = ConsoleBackend((1.0, 2.0))
    assert backend.send(PHONE, "Your Agora code is 1234.", attempt=1) == Outcome(status="sent")
    assert backend.send(PHONE, "Your Agora code is 1234.", attempt=2) == Outcome(status="sent")
    assert len(sleeps) == 1 and 1.0 <= sleeps[0] <= 2.0
    assert caplog.text.count("sms_console to=+79991234567 body='Your Agora code is 1234.'") == 2


def test_the_outbox_backend_waits_then_keeps_the_message(make_app, sleeps):
    app = make_app(SMS_BACKEND="outbox")
    with app.app_context():
        assert OutboxBackend((0.5, 0.5)).send(PHONE, "hello", attempt=1).status == "sent"
        assert [message["body"] for message in outbox_messages(PHONE)] == ["hello"]
    assert sleeps == [0.5]


class ScriptedTwilio:
    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = []

    def send(self, to, body, *, attempt):
        self.sent.append((to, body, attempt))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_twilio_has_no_simulated_delay_and_reads_the_answer(ctx, sleeps):
    client = ScriptedTwilio(ProviderResponse(201, {"sid": "SM9"}))
    outcome = TwilioBackend(client).send(PHONE, "hello", attempt=1)
    assert outcome == Outcome(status="sent", details={"sid": "SM9"})
    assert client.sent == [(PHONE, "hello", 1)] and sleeps == []


def test_an_unreachable_twilio_is_tried_again(ctx, sleeps):
    outcome = TwilioBackend(ScriptedTwilio(ProviderUnreachable("timeout"))).send(PHONE, "hello", attempt=1)
    assert not outcome.final and outcome.reason == "timeout"


def test_twilio_logs_its_outcome_without_the_whole_number(ctx, sleeps, caplog):
    with caplog.at_level(logging.INFO, logger="app.phone.backends"):
        TwilioBackend(ScriptedTwilio(ProviderResponse(201, {"sid": "SM9"}))).send(PHONE, "hello", attempt=1)
    [line] = [record.getMessage() for record in caplog.records if "sms_twilio" in record.getMessage()]
    assert PHONE not in line and "to=…67 status=sent" in line
