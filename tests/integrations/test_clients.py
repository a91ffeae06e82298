"""The provider clients on their own, against the fake servers: what they send, what they hand back, what they log."""

import logging

import pytest

from app.integrations.clearbit import ClearbitClient
from app.integrations.http import ProviderUnreachable, RedactSecrets, install_log_redaction, parse_retry_after
from app.integrations.hunter import HunterClient
from app.integrations.twilio import TwilioClient
from tests.fakes import (CLEARBIT_COMBINED, HUNTER_VERIFY, TWILIO_MESSAGES, Answer, FakeProviderServer,
                         hunter_error)


@pytest.fixture
def providers():
    with FakeProviderServer() as providers:
        yield providers


def test_hunter_sends_the_email_and_key_and_hands_back_status_and_body(providers):
    client = HunterClient(base_url=providers.hunter_url, api_key="h-key", timeout=2)
    answer = client.verify_email("ann@example.com", attempt=2)
    assert answer.status_code == 200
    assert answer.body["data"]["email"] == "ann@example.com"
    [call] = providers.calls(HUNTER_VERIFY)
    assert call["args"] == {"email": "ann@example.com", "api_key": "h-key"}


def test_an_error_answer_keeps_its_body_and_retry_after(providers):
    providers.script(HUNTER_VERIFY, Answer(429, hunter_error(429, "too_many_requests", "slow down"),
                                           headers={"Retry-After": "7"}))
    answer = HunterClient(base_url=providers.hunter_url, api_key="k", timeout=2).verify_email("a@example.com")
    assert (answer.status_code, answer.retry_after) == (429, 7.0)
    assert answer.body["errors"][0]["id"] == "too_many_requests"


def test_a_body_that_is_not_a_json_object_is_none(providers):
    providers.script(CLEARBIT_COMBINED, Answer(200, "<html>oops</html>"))
    answer = ClearbitClient(base_url=providers.clearbit_url, api_key="c-key", timeout=2).combined_find("a@example.com")
    assert (answer.status_code, answer.body) == (200, None)


def test_clearbit_authenticates_with_its_key(providers):
    ClearbitClient(base_url=providers.clearbit_url, api_key="c-key", timeout=2).combined_find("a@example.com")
    [call] = providers.calls(CLEARBIT_COMBINED)
    assert call["headers"]["Authorization"] == "Bearer c-key"
    assert call["args"] == {"email": "a@example.com"}


def test_twilio_posts_the_message_form_with_basic_auth(providers):
    client = TwilioClient(base_url=providers.twilio_url, account_sid="AC123", auth_token="secret", sender="+15005550006",
                          timeout=2)
    answer = client.send("+79991234567", "Your Agora code is 1234.")
    assert answer.status_code == 201 and answer.body["sid"].startswith("SM")
    [call] = providers.calls(TWILIO_MESSAGES)
    assert call["path"] == "/twilio/2010-04-01/Accounts/AC123/Messages.json"
    assert call["auth"] == ("AC123", "secret")
    assert call["form"] == {"To": "+79991234567", "From": "+15005550006", "Body": "Your Agora code is 1234."}


def test_no_answer_in_time_is_a_timeout(providers):
    providers.script(HUNTER_VERIFY, Answer(delay=0.5))
    with pytest.raises(ProviderUnreachable) as raised:
        HunterClient(base_url=providers.hunter_url, api_key="k", timeout=0.1).verify_email("a@example.com")
    assert raised.value.kind == "timeout"


def test_a_refused_connection_is_a_connection_error_and_its_log_has_no_key(caplog):
    caplog.set_level(logging.INFO, logger="agora.integrations")
    with pytest.raises(ProviderUnreachable) as raised:
        HunterClient(base_url="http://127.0.0.1:1/v2", api_key="secret-key", timeout=1).verify_email("a@example.com")
    assert raised.value.kind == "connection_error"
    assert "provider=hunter endpoint=email-verifier status=ConnectionError" in caplog.text
    assert "secret-key" not in caplog.text


def test_keys_in_logged_urls_are_redacted():
    record = logging.LogRecord("urllib3.connectionpool", logging.DEBUG, __file__, 1,
                               'GET /v2/email-verifier?email=%s&api_key=%s HTTP/1.1', ("a@b.c", "abc123"), None)
    assert RedactSecrets().filter(record)
    assert record.getMessage() == "GET /v2/email-verifier?email=a@b.c&api_key=[redacted] HTTP/1.1"


def test_redaction_is_installed_once():
    install_log_redaction()
    install_log_redaction()
    filters = logging.getLogger("urllib3.connectionpool").filters
    assert sum(isinstance(existing, RedactSecrets) for existing in filters) == 1


def test_retry_after_in_seconds_and_as_a_date():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
