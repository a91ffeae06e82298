"""Password reset codes: whether an account has the address is settled here, off the request that asked."""

from app.auth.services import mail_reset_code
from tasks.base import BackgroundTask

# Not retried: it only issues the code; the mail itself is tasks.send_mail_code, retried on its own.
MAIL_RESET_CODE = BackgroundTask("tasks.mail_reset_code", "mail", mail_reset_code, retried=False)

TASKS = (MAIL_RESET_CODE,)
