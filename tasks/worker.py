"""The Celery worker's entry: ``celery -A tasks.worker worker``."""

from dotenv import load_dotenv

from app import create_app

load_dotenv()
app = create_app()
celery = app.extensions["celery"]
