"""Background work: Celery bound to the Flask app, and the one place that queues profile checks."""

import logging

from celery import Celery, Task
from flask import Flask, current_app

log = logging.getLogger(__name__)


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app whose tasks run inside a Flask application context (Flask's pattern)."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object("celeryconfig")
    if app.config["CELERY_BROKER_URL"]:
        celery_app.conf.broker_url = app.config["CELERY_BROKER_URL"]
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def initial_check_statuses() -> dict:
    """A new email's verification and enrichment statuses: ``pending`` where a provider is configured."""
    config = current_app.config
    return {
        "email_status": "pending" if config["HUNTER_API_KEY"] else "skipped",
        "enrichment_status": "pending" if config["ENRICHMENT_PROVIDER"] else "skipped",
    }


def queue_profile_checks(user_id: int, *, email_status: str, enrichment_status: str) -> list[str]:
    """Queue the checks a freshly committed email needs; returns the names of the checks due.

    Called after the commit, so a task only ever sees committed data. The Hunter and
    Clearbit tasks themselves arrive with the background-work issue; until then the
    pending statuses are recorded and ``flask enrichment resume`` will pick them up.
    """
    due = []
    if email_status == "pending":
        due.append("verify_email")
    if enrichment_status == "pending":
        due.append("enrich_user")
    if due:
        log.info("profile checks due user_id=%s checks=%s", user_id, ",".join(due))
    return due
