"""Mail delivery of codes (address confirmation, password reset), on its own queue so slow providers never hold it up."""

from app.mail.services import deliver_mail_attempt
from tasks.base import BackgroundTask

SEND_MAIL_CODE = BackgroundTask("tasks.send_mail_code", "mail", deliver_mail_attempt,
                                provider=lambda config: config["MAIL_BACKEND"])

TASKS = (SEND_MAIL_CODE,)
