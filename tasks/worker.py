"""The Celery worker's (and beat's) entry: ``celery -A tasks.worker worker`` / ``beat``.

Celery looks for an attribute named ``app`` before ``celery``: the Flask app must not take that name.
"""

from dotenv import load_dotenv

from app import create_app

load_dotenv()
flask_app = create_app()
celery = flask_app.extensions["celery"]

import tasks.integrations  # noqa: E402,F401  (registers the tasks with this Celery app)
import tasks.sms  # noqa: E402,F401
