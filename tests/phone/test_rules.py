"""The pure rules of phone sign-in: numbers, codes, the message, and what Twilio's answers mean."""

import pytest

from app.core.errors import ValidationFailed
from app.core.retries import RetryPolicy
from app.phone.rules import message_text, new_code, normalize_phone, twilio_outcome

POLICY = RetryPolicy(max_attempts=3, backoff_seconds=1.0, backoff_max_seconds=10.0)


@pytest.mark.parametrize("raw, region, e164", [
    ("+7 999 123-45-67", None, "+79991234567"),
    ("+79991234567", "GB", "+79991234567"),
    ("8 (999) 123-45-67", "RU", "+79991234567"),
    ("020 7946 0958", "GB", "+442079460958"),
])
def test_numbers_are_stored_in_e164(raw, region, e164):
    assert normalize_phone(raw, region) == e164


@pytest.mark.parametrize("raw, region, message", [
    ("89991234567", None, "Not a phone number. Start with + and the country code."),
    ("not a number", "RU", "Not a phone number."),
    ("+7 999", None, "Not a valid phone number."),
])
def test_a_number_that_is_not_one_names_phone(raw, region, message):
    with pytest.raises(ValidationFailed) as raised:
        normalize_phone(raw, region)
    assert raised.value.fields == {"phone": [message]}


def test_codes_are_four_digits_and_vary():
    codes = {new_code() for _ in range(200)}
    assert all(len(code) == 4 and code.isdigit() for code in codes)
    assert len(codes) > 100


def test_the_message_gives_the_code_and_its_life_in_minutes():
    assert message_text("0421", 300) == "Your Agora code is 0421. It expires in 5 minutes."


@pytest.mark.parametrize("status", [200, 201])
def test_an_accepted_message_is_sent_with_its_sid(status):
    outcome = twilio_outcome(status, {"sid": "SM1"}, None, 1, POLICY)
    assert (outcome.status, outcome.details, outcome.final) == ("sent", {"sid": "SM1"}, True)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_busy_or_broken_gateway_is_tried_again(status):
    outcome = twilio_outcome(status, None, None, 1, POLICY)
    assert not outcome.final and 0 < outcome.retry_in <= 1.0
    assert outcome.reason == f"status_{status}"


def test_twilio_retry_after_is_honoured_up_to_the_cap():
    assert twilio_outcome(429, None, 7.0, 1, POLICY).retry_in == 7.0
    assert twilio_outcome(429, None, 600.0, 1, POLICY).retry_in == 10.0


def test_the_last_attempt_fails_for_good():
    outcome = twilio_outcome(503, None, None, 3, POLICY)
    assert (outcome.status, outcome.final) == ("failed", True)


def test_a_refused_message_fails_at_once_naming_twilios_code():
    outcome = twilio_outcome(400, {"code": 21211, "message": "Invalid 'To' Phone Number"}, None, 1, POLICY)
    assert (outcome.status, outcome.reason) == ("failed", "status_400 twilio_code=21211")
