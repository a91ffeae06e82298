"""Delivering a sign-in code by SMS through the configured backend: console, outbox or twilio."""

import json
import logging
import random
import time
from datetime import datetime

from flask import current_app

from app.auth.phone_codes import code_digest, unseal
from app.database import utcnow
from app.errors import SmsOutboxDisabled
from app.extensions import redis_store
from app.integrations.http import ProviderUnreachable
from app.integrations.twilio import TwilioClient
from app.retries import Outcome, call_again, retry_policy

log = logging.getLogger(__name__)


def message_text(code: str) -> str:
    minutes = current_app.config["PHONE_CODE_TTL_SECONDS"] // 60
    return f"Your Agora code is {code}. It expires in {minutes} minutes."


def deliver_code_attempt(phone: str, sealed_code: str, *, attempt: int = 1) -> Outcome | None:
    """Hand a code to the SMS backend: after the simulated gateway delay on the first attempt.

    None when there is nothing to send: the sealed code is not ours or too old, or a newer
    code has replaced it (the person is waiting for that one).
    """
    if attempt == 1:
        low, high = current_app.config["SMS_DELAY_SECONDS"]
        time.sleep(random.uniform(low, high))  # the simulated SMS gateway: in the worker, never the request
    code = unseal(sealed_code)
    if code is None or redis_store.client.hget(redis_store.key("phone", phone, "code"), "digest") != code_digest(phone, code):
        log.info("sms_skipped phone=%s reason=code_no_longer_live", phone)
        return None
    backend = current_app.config["SMS_BACKEND"]
    body = message_text(code)
    if backend == "console":
        log.info("sms_console to=%s body=%r", phone, body)  # the console backend exists to show the code
        return Outcome(status="sent")
    if backend == "outbox":
        add_to_outbox(phone, body)
        return Outcome(status="sent")
    return send_with_twilio(phone, body, attempt)


def send_with_twilio(phone: str, body: str, attempt: int) -> Outcome:
    config = current_app.config
    client = TwilioClient(base_url=config["TWILIO_BASE_URL"], account_sid=config["TWILIO_ACCOUNT_SID"] or "",
                          auth_token=config["TWILIO_AUTH_TOKEN"] or "", sender=config["TWILIO_FROM"] or "",
                          timeout=config["TWILIO_TIMEOUT_SECONDS"])
    try:
        answer = client.send(phone, body, attempt=attempt)
    except ProviderUnreachable as unreachable:
        outcome = call_again(attempt, retry_policy(), reason=unreachable.kind, give_up_as="failed")
    else:
        outcome = twilio_outcome(answer.status_code, answer.body, answer.retry_after, attempt)
    if outcome.final:
        log.info("sms_twilio to=%s status=%s reason=%s", phone, outcome.status, outcome.reason)
    return outcome


def twilio_outcome(status_code: int, body: dict | None, retry_after: float | None, attempt: int) -> Outcome:
    """What Twilio's answer to a Messages POST means: sent, failed for good, or try again."""
    if status_code in (200, 201):
        return Outcome(status="sent", details={"sid": (body or {}).get("sid")})
    if status_code == 429 or status_code >= 500:
        return call_again(attempt, retry_policy(), reason=f"status_{status_code}", give_up_as="failed",
                          retry_after=retry_after)
    return Outcome(status="failed", reason=f"status_{status_code} twilio_code={(body or {}).get('code')}")


def add_to_outbox(phone: str, body: str) -> None:
    """Keep the message in the phone's outbox list in Redis, newest first, bounded."""
    key = redis_store.key("sms", "outbox", phone)
    message = json.dumps({"phone": phone, "body": body, "created_at": utcnow().isoformat()})
    pipe = redis_store.client.pipeline()
    pipe.lpush(key, message)
    pipe.ltrim(key, 0, current_app.config["SMS_OUTBOX_SIZE"] - 1)
    pipe.expire(key, 86_400)
    pipe.execute()


def outbox(phone: str) -> list[dict]:
    """The messages sent to ``phone`` by the outbox backend, newest first; 404 under other backends."""
    if current_app.config["SMS_BACKEND"] != "outbox":
        raise SmsOutboxDisabled()
    messages = [json.loads(item) for item in redis_store.client.lrange(redis_store.key("sms", "outbox", phone), 0, -1)]
    return [{**message, "created_at": datetime.fromisoformat(message["created_at"])} for message in messages]
