"""Background work: the registry of tasks, and the two ways they run.

With a broker (CELERY_BROKER_URL, or REDIS_URL) tasks go to Celery workers (``tasks.worker``).
Without one (the embedded default) the inline runner runs the same tasks from the same registry
inside the web process. Either way the app's services queue work with ``app.core.jobs.enqueue``.
"""
