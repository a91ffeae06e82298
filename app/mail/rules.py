"""The pure rules of mailed codes: what a code is, what each purpose's message says, what an SMTP refusal means."""

import secrets

from app.core.retries import Outcome, RetryPolicy, call_again

# purpose -> (subject, the sentence before the code). A purpose names what a code proves.
PURPOSES = {
    "confirm": ("Confirm your Agora address", "Your Agora confirmation code is"),
    "reset": ("Reset your Agora password", "Your Agora password reset code is"),
}


def new_code() -> str:
    """Six digits, from the system's secure random source."""
    return f"{secrets.randbelow(1_000_000):06d}"


def message(purpose: str, code: str, ttl_seconds: int) -> tuple[str, str]:
    """The subject and body of the mail carrying ``code`` for ``purpose``."""
    subject, lead = PURPOSES[purpose]
    body = (f"{lead} {code}. It expires in {ttl_seconds // 60} minutes.\n\n"
            "If you did not ask for it, ignore this message: nothing changes without the code.\n")
    return subject, body


def smtp_outcome(reply_code: int | None, reason: str, attempt: int, policy: RetryPolicy) -> Outcome:
    """What an SMTP refusal means: a 4xx reply or a lost connection (no reply) is tried again, a 5xx is final."""
    if reply_code is None or 400 <= reply_code < 500:
        return call_again(attempt, policy, reason=reason, give_up_as="failed")
    return Outcome(status="failed", reason=reason)
