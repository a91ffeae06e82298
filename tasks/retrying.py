"""How a task turns an attempt's outcome into Celery's retry."""


def retry_if_due(task, outcome) -> None:
    """Retry ``task`` after the outcome's delay when it asks to be called again.

    The rules cap the attempts and end in a terminal status, so Celery's own cap is off.
    """
    if outcome is not None and not outcome.final:
        raise task.retry(countdown=outcome.retry_in, max_retries=None)
