"""Background results belong to the address they checked (SPEC 4): a check answered after the email
changed is dropped, and the new address is checked in its turn. Slow checks are the fakes' delays."""

import time

import pytest

from tests.accounts import PASSWORD, bearer, sign_up_on
from tests.conftest import provider_config
from tests.fakes import CLEARBIT_COMBINED, HUNTER_VERIFY, Answer, hunter_verification
from tests.mail.outbox import mailed_code

OLD, NEW = "alex@example.com", "alex@undeliverable.example"
SLOW = 1.0  # seconds the old address's answer takes: the change lands while it is on its way


@pytest.fixture
def client(make_app, providers):
    # A timeout longer than the slow answer: it must arrive, late, rather than be retried.
    app = make_app(**provider_config(providers, MAIL_BACKEND="outbox", HUNTER_TIMEOUT_SECONDS=5.0,
                                     CLEARBIT_TIMEOUT_SECONDS=5.0))
    return app.test_client()


def change_email(client, headers, email=NEW):
    response = client.patch("/api/v1/users/me", json={"email": email, "current_password": PASSWORD}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json, bearer(response.json["access_token"])


def confirm(client, headers, email):
    response = client.post("/api/v1/auth/email/confirm", json={"code": mailed_code(client, email)}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def wait_until(condition, *, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return result


def profile(client, headers):
    return client.get("/api/v1/users/me", headers=headers).json


def test_a_verification_answered_after_the_change_is_dropped_and_the_new_address_verified(client, providers):
    # The new address's answer takes a moment too: on a busy machine an instant one was recorded before the
    # change's own answer read the profile back (seen once in CI), which then no longer said pending.
    providers.script(HUNTER_VERIFY, Answer(200, hunter_verification(OLD), delay=SLOW),
                     Answer(200, hunter_verification(NEW, "invalid", "undeliverable", 3), delay=0.5))
    _, headers = sign_up_on(client, OLD)
    wait_until(lambda: providers.calls(HUNTER_VERIFY))  # the old address's check is on its way
    changed, headers = change_email(client, headers)
    assert changed["email_status"] == "pending"
    wait_until(lambda: profile(client, headers)["email_status"] == "invalid")
    time.sleep(SLOW)  # the old answer arrives now, and must change nothing
    assert [call["args"]["email"] for call in providers.calls(HUNTER_VERIFY)] == [OLD, NEW]
    me = profile(client, headers)
    assert (me["email"], me["email_status"]) == (NEW, "invalid")
    blocked = client.post("/api/v1/posts", json={"body": "hello"}, headers=headers)
    assert (blocked.status_code, blocked.json["error"]["code"]) == (403, "email_undeliverable")


def test_an_enrichment_answered_after_the_change_is_dropped_and_the_new_address_waits_for_its_proof(
        client, providers):
    providers.script(CLEARBIT_COMBINED, Answer(delay=SLOW), Answer(404, {}))
    _, headers = sign_up_on(client, OLD)
    confirm(client, headers, OLD)
    wait_until(lambda: providers.calls(CLEARBIT_COMBINED))  # the old address's lookup is on its way
    changed, headers = change_email(client, headers)
    assert (changed["email_confirmed"], changed["enrichment_status"]) == (False, "unconfirmed")
    time.sleep(SLOW + 0.3)  # the old answer (a person found) has arrived, and was dropped
    me = profile(client, headers)
    assert (me["enrichment_status"], me["enrichment"], me["name"]) == ("unconfirmed", None, None)
    assert len(providers.calls(CLEARBIT_COMBINED)) == 1  # nobody is looked up before proving the new address
    confirmed = confirm(client, headers, NEW)
    assert confirmed["email_confirmed"] is True
    wait_until(lambda: profile(client, headers)["enrichment_status"] == "not_found")
    assert [call["args"]["email"] for call in providers.calls(CLEARBIT_COMBINED)] == [OLD, NEW]


def test_a_code_mailed_to_the_old_address_does_not_confirm_the_new_one(client):
    _, headers = sign_up_on(client, OLD)
    old_code = mailed_code(client, OLD)
    _, headers = change_email(client, headers)
    refused = client.post("/api/v1/auth/email/confirm", json={"code": old_code}, headers=headers)
    new_code = mailed_code(client, NEW)
    if old_code != new_code:  # one in a million they are the same digits
        assert refused.status_code == 400 and refused.json["error"]["code"] == "invalid_code"
    assert confirm(client, headers, NEW)["email_confirmed"] is True
