"""Queueing background work: services name the function to run, ``tasks`` knows where it runs.

Every background task is declared once in ``tasks`` (its name, queue and function); the app
factory installs the queue of the mode it runs in (Celery with a broker, else the inline runner)
as ``app.extensions["tasks"]``. A service calls ``enqueue(its_function, *args)``, as with RQ,
and never imports ``tasks``: the tasks import the services, not the other way round.
"""

from flask import current_app


def enqueue(function, *args) -> bool:
    """Run ``function(*args)`` as its background task; False if the broker could not take it."""
    return current_app.extensions["tasks"].enqueue(function, args)
