"""The profile checks of an email account: verification (Hunter) and enrichment (Clearbit), and their resumption."""

from app.profile_checks.services import enrich_user_attempt, resume_profile_checks, verify_email_attempt
from tasks.base import BackgroundTask

VERIFY_EMAIL = BackgroundTask("tasks.verify_email", "integrations", verify_email_attempt,
                              provider=lambda config: "hunter")
ENRICH_USER = BackgroundTask("tasks.enrich_user", "integrations", enrich_user_attempt,
                             provider=lambda config: config["ENRICHMENT_PROVIDER"])
# Queues again the checks left pending, as `flask profile-checks resume` does.
RESUME_PROFILE_CHECKS = BackgroundTask("tasks.resume_profile_checks", "integrations", resume_profile_checks,
                                       retried=False, every_seconds=300.0)

TASKS = (VERIFY_EMAIL, ENRICH_USER, RESUME_PROFILE_CHECKS)
