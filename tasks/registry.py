"""The one registry of background tasks: what Celery workers, beat and the inline runner all run."""

from kombu import Queue

from tasks import auth, mail, phone, profile_checks
from tasks.base import BackgroundTask

TASKS: dict[str, BackgroundTask] = {task.name: task for task in (*profile_checks.TASKS, *phone.TASKS, *mail.TASKS,
                                                                  *auth.TASKS)}
QUEUES: tuple[str, ...] = tuple(sorted({task.queue for task in TASKS.values()}))
_BY_FUNCTION = {task.function: task for task in TASKS.values()}


def task_of(function) -> BackgroundTask:
    """The task declared for ``function``; KeyError names it if none is (a service queued a stray function)."""
    try:
        return _BY_FUNCTION[function]
    except KeyError:
        raise KeyError(f"no background task runs {function.__module__}.{function.__qualname__}") from None


def routes() -> dict[str, dict]:
    """Celery's task_routes: each task to its queue."""
    return {task.name: {"queue": task.queue} for task in TASKS.values()}


def beat_schedule() -> dict[str, dict]:
    """Celery's beat_schedule: the periodic tasks."""
    return {task.name: {"task": task.name, "schedule": task.every_seconds}
            for task in TASKS.values() if task.every_seconds is not None}


def queue_declarations() -> tuple[Queue, ...]:
    """Celery's task_queues: a worker consumes all of them unless started with -Q."""
    return tuple(Queue(name) for name in QUEUES)
