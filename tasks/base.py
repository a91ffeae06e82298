"""What a background task is, and one run of it, the same under Celery and the inline runner."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class BackgroundTask:
    """A function of the services run off the request, on a queue, under a name workers know it by.

    ``retried``: it takes ``attempt=`` and returns an ``Outcome``, run again after ``retry_in`` until final.
    ``every_seconds``: beat runs it periodically (Celery only).
    ``provider(config)``: the provider a run calls (a metric label).
    """

    name: str
    queue: str
    function: Callable
    retried: bool = True
    every_seconds: float | None = None
    provider: Callable[[Mapping], str | None] | None = None


def run_once(task: BackgroundTask, args: tuple, attempt: int) -> float | None:
    """Run one attempt of ``task``; the seconds before the next attempt, or None when it is done."""
    if not task.retried:
        task.function(*args)
        return None
    outcome = task.function(*args, attempt=attempt)
    return outcome.retry_in if outcome is not None and not outcome.final else None
