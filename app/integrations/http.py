"""One provider call: timed, logged without its secrets, and reduced to what the rules need."""

import logging
import re
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone

import requests
from prometheus_client import Counter, Histogram

log = logging.getLogger("agora.integrations")

# Recorded where each call is logged. prometheus_client is a library, not the app: this package still
# knows neither Flask nor the app. Labels: the provider, its endpoint (a fixed path name), and the HTTP
# status or the kind of failure (timeout, ConnectionError, ...): never the URL, which carries addresses and keys.
PROVIDER_CALLS = Counter("agora_provider_calls_total", "Calls to Hunter, Clearbit and Twilio by provider, endpoint "
                         "and status (the HTTP status, or timeout / the connection error's kind).",
                         ("provider", "endpoint", "status"))
PROVIDER_CALL_DURATION = Histogram("agora_provider_call_duration_seconds",
                                   "Time a provider call took, answered or not, by provider and endpoint.",
                                   ("provider", "endpoint"),
                                   buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))

SECRET_PARAMETER = re.compile(r"((?:api_key|token|key)=)[^&\s\"']+", re.IGNORECASE)


class RedactSecrets(logging.Filter):
    """Hunter's key travels in the query string (its API's form): blank it in any URL a library logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = SECRET_PARAMETER.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install_log_redaction() -> None:
    """Attach the redaction to the loggers that print request URLs (urllib3 does, at DEBUG)."""
    for name in ("urllib3.connectionpool", "requests"):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactSecrets) for existing in logger.filters):
            logger.addFilter(RedactSecrets())


@dataclass(frozen=True)
class ProviderResponse:
    """What a provider answered: status, JSON body (None if it was not JSON) and Retry-After."""

    status_code: int
    body: dict | None
    retry_after: float | None = None
    headers: dict = field(default_factory=dict)


class ProviderUnreachable(Exception):
    """No HTTP answer: a timeout or a connection failure."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def call_provider(session: requests.Session, *, provider: str, endpoint: str, url: str, params=None,
                  headers=None, timeout: float, attempt: int, method: str = "GET", data=None,
                  auth=None) -> ProviderResponse:
    """Call ``url`` and log provider, endpoint, status, latency and attempt (never the URL: it may carry a key)."""
    started = time.monotonic()
    try:
        response = session.request(method, url, params=params, headers=headers, data=data, auth=auth,
                                   timeout=timeout)
    except requests.Timeout:
        _log(provider, endpoint, "timeout", started, attempt)
        raise ProviderUnreachable("timeout") from None
    except requests.RequestException as exc:
        # The exception's text holds the full URL, key included: log only its kind.
        _log(provider, endpoint, type(exc).__name__, started, attempt)
        raise ProviderUnreachable("connection_error") from None
    _log(provider, endpoint, response.status_code, started, attempt)
    try:
        body = response.json()
    except ValueError:
        body = None
    return ProviderResponse(
        status_code=response.status_code,
        body=body if isinstance(body, dict) else None,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


def _log(provider, endpoint, status, started, attempt):
    elapsed = time.monotonic() - started
    PROVIDER_CALLS.labels(provider, endpoint, str(status)).inc()
    PROVIDER_CALL_DURATION.labels(provider, endpoint).observe(elapsed)
    latency_ms = round(elapsed * 1000)
    log.info("provider_call provider=%s endpoint=%s status=%s latency_ms=%d attempt=%d",
             provider, endpoint, status, latency_ms, attempt,
             extra={"provider": provider, "endpoint": endpoint, "status": status,
                    "latency_ms": latency_ms, "attempt": attempt})


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
