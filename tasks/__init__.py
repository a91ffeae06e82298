"""Celery tasks. Importing a task never builds an app: the worker starts from ``tasks.worker``."""
