"""Retrying calls to providers: exponential backoff with jitter, a cap, then a terminal status."""

import random
from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff_seconds: float
    backoff_max_seconds: float


@dataclass(frozen=True)
class Outcome:
    """Either a terminal status to record (with a reason and details) or a delay before calling again."""

    status: str | None = None
    reason: str | None = None
    details: dict | None = None
    retry_in: float | None = None

    @property
    def final(self) -> bool:
        return self.retry_in is None


def backoff_delay(attempt: int, policy: RetryPolicy, rng=random.random) -> float:
    """Exponential backoff with jitter: between half and all of ``base * 2**(attempt-1)``, capped."""
    ceiling = min(policy.backoff_max_seconds, policy.backoff_seconds * 2 ** (attempt - 1))
    return ceiling / 2 + rng() * ceiling / 2


def call_again(attempt: int, policy: RetryPolicy, *, reason: str, give_up_as: str,
               retry_after: float | None = None, rng=random.random) -> Outcome:
    """Retry after backoff (or the provider's Retry-After, if longer), until the attempts run out."""
    if attempt >= policy.max_attempts:
        return Outcome(status=give_up_as, reason=f"{reason}; gave up after {attempt} attempts")
    delay = backoff_delay(attempt, policy, rng)
    if retry_after is not None:
        delay = max(delay, min(retry_after, policy.backoff_max_seconds))
    return Outcome(retry_in=delay, reason=reason)


def retry_policy() -> RetryPolicy:
    """The policy configured by INTEGRATION_MAX_ATTEMPTS and INTEGRATION_BACKOFF_*."""
    config = current_app.config
    return RetryPolicy(config["INTEGRATION_MAX_ATTEMPTS"], config["INTEGRATION_BACKOFF_SECONDS"],
                       config["INTEGRATION_BACKOFF_MAX_SECONDS"])
