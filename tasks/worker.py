"""The Celery worker's (and beat's) entry: ``celery -A tasks.worker worker`` / ``beat``."""

from dotenv import load_dotenv

from app import create_app

load_dotenv()
app = create_app()
celery = app.extensions["celery"]

import tasks.integrations  # noqa: E402,F401  (registers the tasks with this Celery app)
import tasks.sms  # noqa: E402,F401
