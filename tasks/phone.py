"""SMS delivery of sign-in codes, on its own queue so slow providers never hold it up."""

from app.phone.services import deliver_code_attempt
from tasks.base import BackgroundTask

SEND_SMS_CODE = BackgroundTask("tasks.send_sms_code", "sms", deliver_code_attempt,
                               provider=lambda config: config["SMS_BACKEND"])

TASKS = (SEND_SMS_CODE,)
