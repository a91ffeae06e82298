"""The pure rules of phone sign-in: what a number is, what a code is, what the SMS says, what Twilio's answer means."""

import secrets

import phonenumbers

from app.core.errors import ValidationFailed
from app.core.retries import Outcome, RetryPolicy, call_again


def normalize_phone(raw: str, region: str | None) -> str:
    """The number in E.164 (``+79991234567``); 422 naming ``phone`` if it is not a possible, valid number.

    ``region`` (PHONE_DEFAULT_REGION) lets national numbers in; without it a number starts with ``+``.
    """
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        hint = "" if region or raw.strip().startswith("+") else " Start with + and the country code."
        raise ValidationFailed(fields={"phone": [f"Not a phone number.{hint}"]}) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(fields={"phone": ["Not a valid phone number."]})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def new_code() -> str:
    """Four digits, from the system's secure random source."""
    return f"{secrets.randbelow(10_000):04d}"


def message_text(code: str, ttl_seconds: int) -> str:
    return f"Your Agora code is {code}. It expires in {ttl_seconds // 60} minutes."


def twilio_outcome(status_code: int, body: dict | None, retry_after: float | None, attempt: int,
                   policy: RetryPolicy) -> Outcome:
    """What Twilio's answer to a Messages POST means: sent, failed for good, or try again."""
    if status_code in (200, 201):
        return Outcome(status="sent", details={"sid": (body or {}).get("sid")})
    if status_code == 429 or status_code >= 500:
        return call_again(attempt, policy, reason=f"status_{status_code}", give_up_as="failed",
                          retry_after=retry_after)
    return Outcome(status="failed", reason=f"status_{status_code} twilio_code={(body or {}).get('code')}")
