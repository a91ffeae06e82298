"""Unit tests of the profile-check rules: each answer's status and each retry decision."""

import pytest

from app.integrations.http import ProviderResponse, ProviderUnreachable
from app.profile_checks.rules import enrichment_outcome, extract_enrichment, verification_outcome
from app.core.retries import RetryPolicy, backoff_delay
from tests.fakes import COMPANY, PERSON, hunter_error, hunter_verification

POLICY = RetryPolicy(max_attempts=5, backoff_seconds=2.0, backoff_max_seconds=60.0)


def always_max():
    return 1.0


def always_min():
    return 0.0


def answer(status, body=None, retry_after=None):
    return ProviderResponse(status_code=status, body=body, retry_after=retry_after)


# --- Hunter Email Verifier -------------------------------------------------------------------

@pytest.mark.parametrize("hunter_status, result, expected", [
    ("valid", "deliverable", "valid"),
    ("webmail", "deliverable", "valid"),
    ("invalid", "undeliverable", "invalid"),
    ("accept_all", "risky", "risky"),
    ("disposable", "deliverable", "risky"),
    ("unknown", "risky", "risky"),
])
def test_hunter_verdicts_map_to_email_status(hunter_status, result, expected):
    outcome = verification_outcome(answer(200, hunter_verification("a@x.com", hunter_status, result, 77)), 1, POLICY)
    assert outcome.final and outcome.status == expected
    assert outcome.details["score"] == 77
    assert outcome.details["hunter_status"] == hunter_status
    assert outcome.details["smtp_server"] is True


def test_an_answer_with_only_the_old_result_field_still_maps():
    outcome = verification_outcome(answer(200, {"data": {"result": "undeliverable", "score": 3}}), 1, POLICY)
    assert outcome.status == "invalid"


def test_an_unrecognised_verdict_is_unknown():
    outcome = verification_outcome(answer(200, {"data": {"status": "mystery"}}), 1, POLICY)
    assert (outcome.status, outcome.reason) == ("unknown", "unrecognised_verdict")


@pytest.mark.parametrize("code, reason", [(202, "verification_in_progress"), (222, "smtp_server_failed"),
                                          (403, "rate_limited"), (500, "server_error_500"), (503, "server_error_503")])
def test_hunter_transient_answers_are_called_again(code, reason):
    outcome = verification_outcome(answer(code, hunter_error(code, "x", "y")), 1, POLICY, rng=always_max)
    assert not outcome.final
    assert outcome.retry_in == 2.0
    assert outcome.reason == reason


@pytest.mark.parametrize("kind", ["timeout", "connection_error"])
def test_no_answer_at_all_is_called_again(kind):
    outcome = verification_outcome(ProviderUnreachable(kind), 1, POLICY)
    assert not outcome.final and outcome.reason == kind


def test_a_malformed_success_body_is_called_again():
    assert not verification_outcome(answer(200, None), 1, POLICY).final
    assert not verification_outcome(answer(200, {"data": "nope"}), 1, POLICY).final


@pytest.mark.parametrize("code, status, reason", [
    (400, "failed", "rejected: wrong_params"),
    (401, "failed", "invalid_api_key"),
    (429, "failed", "quota_exceeded"),
    (451, "unknown", "processing_restricted"),
    (418, "failed", "unexpected_status_418"),
])
def test_hunter_terminal_answers(code, status, reason):
    outcome = verification_outcome(answer(code, hunter_error(code, "wrong_params", "details")), 1, POLICY)
    assert outcome.final
    assert (outcome.status, outcome.reason) == (status, reason)


def test_the_quota_answer_is_never_retried_even_with_retry_after():
    outcome = verification_outcome(answer(429, hunter_error(429, "too_many_requests", "quota"), retry_after=1), 1, POLICY)
    assert outcome.final and outcome.status == "failed"


def test_retries_end_in_a_terminal_status_at_the_cap():
    outcome = verification_outcome(answer(500), POLICY.max_attempts, POLICY)
    assert outcome.final
    assert outcome.status == "unknown"
    assert outcome.reason == "server_error_500; gave up after 5 attempts"


def test_retry_after_longer_than_the_backoff_is_honoured():
    outcome = verification_outcome(answer(403, retry_after=30.0), 1, POLICY, rng=always_max)
    assert outcome.retry_in == 30.0


def test_retry_after_is_capped_by_the_backoff_maximum():
    outcome = verification_outcome(answer(403, retry_after=10_000.0), 1, POLICY)
    assert outcome.retry_in == 60.0


# --- backoff ---------------------------------------------------------------------------------

def test_backoff_doubles_per_attempt_between_half_and_all_of_the_ceiling():
    assert [backoff_delay(n, POLICY, always_max) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert [backoff_delay(n, POLICY, always_min) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]


def test_backoff_is_capped():
    assert backoff_delay(30, POLICY, always_max) == 60.0


# --- enrichment ------------------------------------------------------------------------------

def test_clearbit_person_is_found_with_its_useful_fields():
    outcome = enrichment_outcome("clearbit", answer(200, {"person": PERSON, "company": COMPANY}), 1, POLICY)
    assert outcome.status == "found"
    assert outcome.details == {
        "full_name": "Alex MacCaw",
        "location": "San Francisco, CA, US",
        "bio": "O'Reilly author, software engineer & traveller.",
        "avatar": PERSON["avatar"],
        "site": "http://alexmaccaw.com",
        "handles": {"github": "maccman", "twitter": "maccaw", "linkedin": "pub/alex-maccaw/78/929/ab5",
                    "facebook": "amaccaw"},
        "employer": {"name": "Clearbit", "domain": "clearbit.com", "title": "Co-founder, CEO"},
    }


def test_hunter_combined_enrichment_answers_in_the_same_shape_inside_data():
    outcome = enrichment_outcome("hunter", answer(200, {"data": {"person": PERSON, "company": COMPANY}}), 1, POLICY)
    assert outcome.status == "found"
    assert outcome.details["full_name"] == "Alex MacCaw"


def test_an_answer_with_no_person_data_is_not_found():
    outcome = enrichment_outcome("clearbit", answer(200, {"person": None, "company": None}), 1, POLICY)
    assert (outcome.status, outcome.reason) == ("not_found", "no_data")


def test_the_employer_falls_back_to_the_company():
    found = extract_enrichment({"person": {"name": {"givenName": "Ann", "familyName": "Lee"}}, "company": COMPANY})
    assert found == {"full_name": "Ann Lee", "employer": {"name": "Clearbit", "domain": "clearbit.com"}}


def test_garbage_fields_are_dropped_not_stored():
    found = extract_enrichment({"person": {"name": {"fullName": 42}, "bio": ["x"], "location": "x" * 500,
                                           "github": "not-an-object"}})
    assert found == {"location": "x" * 200}


@pytest.mark.parametrize("provider, code, status, reason", [
    ("clearbit", 404, "not_found", "no_match"),
    ("hunter", 404, "not_found", "no_match"),
    ("hunter", 451, "not_found", "processing_restricted"),
    ("clearbit", 401, "failed", "invalid_api_key"),
    ("clearbit", 402, "failed", "unexpected_status_402"),
    ("hunter", 429, "failed", "quota_exceeded"),
])
def test_enrichment_terminal_answers(provider, code, status, reason):
    outcome = enrichment_outcome(provider, answer(code, {"error": {"type": "x"}}), 1, POLICY)
    assert outcome.final and (outcome.status, outcome.reason) == (status, reason)


@pytest.mark.parametrize("provider, code", [("clearbit", 202), ("hunter", 202), ("clearbit", 429),
                                            ("hunter", 403), ("clearbit", 500), ("hunter", 502)])
def test_enrichment_transient_answers_are_called_again(provider, code):
    assert not enrichment_outcome(provider, answer(code, retry_after=3.0), 1, POLICY).final


def test_clearbit_rate_limit_honours_retry_after():
    outcome = enrichment_outcome("clearbit", answer(429, retry_after=20.0), 1, POLICY, rng=always_min)
    assert outcome.retry_in == 20.0


def test_enrichment_gives_up_as_failed():
    outcome = enrichment_outcome("clearbit", ProviderUnreachable("timeout"), POLICY.max_attempts, POLICY)
    assert (outcome.status, outcome.reason) == ("failed", "timeout; gave up after 5 attempts")
