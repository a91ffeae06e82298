"""SMS delivery of sign-in codes, on the ``sms`` queue."""

from celery import shared_task

from app.sms.services import deliver_code_attempt
from tasks.retrying import retry_if_due


@shared_task(bind=True, name="tasks.send_sms_code")
def send_sms_code(self, phone: str, sealed_code: str) -> None:
    """Wait the simulated gateway delay, then hand the (encrypted-in-transit) code to the SMS backend."""
    retry_if_due(self, deliver_code_attempt(phone, sealed_code, attempt=self.request.retries + 1))
