"""The profile-check tasks: each run is one attempt of a service function; a retry is Celery's."""

from celery import shared_task

from app.profile_checks.services import enrich_user_attempt, resume_profile_checks, verify_email_attempt
from tasks.retrying import retry_if_due


@shared_task(bind=True, name="tasks.verify_email")
def verify_email(self, user_id: int, email: str) -> None:
    """Verify ``email`` with Hunter and record ``email_status``."""
    retry_if_due(self, verify_email_attempt(user_id, email, attempt=self.request.retries + 1))


@shared_task(bind=True, name="tasks.enrich_user")
def enrich_user(self, user_id: int, email: str) -> None:
    """Look ``email`` up with the enrichment provider and record ``enrichment_status``."""
    retry_if_due(self, enrich_user_attempt(user_id, email, attempt=self.request.retries + 1))


@shared_task(name="tasks.resume_profile_checks")
def resume_checks() -> int:
    """Queue again the checks left pending (run by beat, like `flask enrichment resume`)."""
    return resume_profile_checks()
