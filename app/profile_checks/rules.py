"""The rules of the profile checks, pure: what each provider answer means and when to call again."""

import random

from app.integrations.http import ProviderResponse, ProviderUnreachable
from app.core.retries import Outcome, RetryPolicy, call_again

# Hunter's `data.status` -> email_status. Webmail boxes (gmail.com, ...) are deliverable; accept-all
# domains, disposable boxes and answers of unknown deliverability cannot be relied on.
HUNTER_VERDICTS = {
    "valid": "valid",
    "webmail": "valid",
    "invalid": "invalid",
    "accept_all": "risky",
    "disposable": "risky",
    "unknown": "risky",
}
# Older answers carry only `data.result`.
HUNTER_RESULTS = {"deliverable": "valid", "undeliverable": "invalid", "risky": "risky"}
HUNTER_CHECKS = ("regexp", "gibberish", "disposable", "webmail", "mx_records", "smtp_server", "smtp_check",
                 "accept_all", "block")
SOCIAL_NETWORKS = ("github", "twitter", "linkedin", "facebook")


def verification_outcome(answer: ProviderResponse | ProviderUnreachable, attempt: int, policy: RetryPolicy,
                         rng=random.random) -> Outcome:
    """What one Hunter Email Verifier answer means for ``email_status``."""
    def again(reason, retry_after=None):
        return call_again(attempt, policy, reason=reason, give_up_as="unknown", retry_after=retry_after, rng=rng)

    if isinstance(answer, ProviderUnreachable):
        return again(answer.kind)
    code = answer.status_code
    if code == 200:
        data = (answer.body or {}).get("data")
        if not isinstance(data, dict):
            return again("malformed_response")
        return hunter_verdict(data)
    if code == 202:
        return again("verification_in_progress", answer.retry_after)  # Hunter: call again, it costs nothing
    if code == 222:
        return again("smtp_server_failed", answer.retry_after)
    if code == 400:
        return Outcome(status="failed", reason=f"rejected: {hunter_error(answer)}")
    if code == 401:
        return Outcome(status="failed", reason="invalid_api_key")
    if code == 403:
        return again("rate_limited", answer.retry_after)  # Hunter's per-second/per-minute limit
    if code == 429:
        return Outcome(status="failed", reason="quota_exceeded")  # the month's quota: no hot retry
    if code == 451:
        return Outcome(status="unknown", reason="processing_restricted")  # the person asked Hunter not to
    if code >= 500:
        return again(f"server_error_{code}", answer.retry_after)
    return Outcome(status="failed", reason=f"unexpected_status_{code}")


def hunter_verdict(data: dict) -> Outcome:
    """Map Hunter's verdict to email_status, keeping its score and the checks behind it."""
    status = HUNTER_VERDICTS.get(data.get("status")) or HUNTER_RESULTS.get(data.get("result"))
    details = {"score": data.get("score") if isinstance(data.get("score"), int) else None,
               "hunter_status": text(data.get("status"), 32), "result": text(data.get("result"), 32)}
    details.update({name: data[name] for name in HUNTER_CHECKS if isinstance(data.get(name), bool)})
    if status is None:
        return Outcome(status="unknown", reason="unrecognised_verdict", details=details)
    return Outcome(status=status, details=details)


def hunter_error(answer: ProviderResponse) -> str:
    errors = (answer.body or {}).get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return text(errors[0].get("id") or errors[0].get("details"), 80) or "bad_request"
    return "bad_request"


def enrichment_outcome(provider: str, answer: ProviderResponse | ProviderUnreachable, attempt: int,
                       policy: RetryPolicy, rng=random.random) -> Outcome:
    """What one Clearbit (or Hunter Combined Enrichment) answer means for ``enrichment_status``."""
    def again(reason, retry_after=None):
        return call_again(attempt, policy, reason=reason, give_up_as="failed", retry_after=retry_after, rng=rng)

    if isinstance(answer, ProviderUnreachable):
        return again(answer.kind)
    code = answer.status_code
    if code == 200:
        if answer.body is None:
            return again("malformed_response")
        payload = answer.body.get("data", answer.body)  # Hunter wraps the {person, company} shape in "data"
        found = extract_enrichment(payload if isinstance(payload, dict) else {})
        return Outcome(status="found", details=found) if found else Outcome(status="not_found", reason="no_data")
    if code == 202:
        return again("lookup_queued", answer.retry_after)  # the provider is looking it up: ask again later
    if code == 404:
        return Outcome(status="not_found", reason="no_match")
    if code == 451:
        return Outcome(status="not_found", reason="processing_restricted")
    if code == 401:
        return Outcome(status="failed", reason="invalid_api_key")
    if code == 403 and provider == "hunter":
        return again("rate_limited", answer.retry_after)
    if code == 429:
        if provider == "hunter":
            return Outcome(status="failed", reason="quota_exceeded")
        return again("rate_limited", answer.retry_after)
    if code >= 500:
        return again(f"server_error_{code}", answer.retry_after)
    return Outcome(status="failed", reason=f"unexpected_status_{code}")


def extract_enrichment(payload: dict) -> dict:
    """The useful fields of a ``{person, company}`` answer; empty when it says nothing about the person."""
    person = payload.get("person") if isinstance(payload.get("person"), dict) else {}
    company = payload.get("company") if isinstance(payload.get("company"), dict) else {}
    name = person.get("name") if isinstance(person.get("name"), dict) else {}
    employment = person.get("employment") if isinstance(person.get("employment"), dict) else {}
    full_name = text(name.get("fullName"), 100) or text(
        " ".join(part for part in (text(name.get("givenName"), 50), text(name.get("familyName"), 50)) if part), 100)
    found = {
        "full_name": full_name,
        "location": text(person.get("location"), 200),
        "bio": text(person.get("bio"), 1000),
        "avatar": text(person.get("avatar"), 500),
        "site": text(person.get("site"), 500),
        "handles": drop_empty({network: text((person.get(network) or {}).get("handle"), 100)
                               for network in SOCIAL_NETWORKS if isinstance(person.get(network), dict)}),
        "employer": drop_empty({
            "name": text(employment.get("name"), 200) or text(company.get("name"), 200),
            "domain": text(employment.get("domain"), 200) or text(company.get("domain"), 200),
            "title": text(employment.get("title"), 200),
        }),
    }
    return drop_empty(found)


def text(value, limit: int) -> str | None:
    """A provider's string, trimmed and bounded; anything else (numbers, nulls, objects) is None."""
    if not isinstance(value, str):
        return None
    value = value.strip().replace("\x00", "")
    return value[:limit] or None


def drop_empty(values: dict) -> dict:
    return {key: value for key, value in values.items() if value not in (None, "", {}, [])}
