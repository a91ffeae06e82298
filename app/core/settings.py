"""Every environment variable Agora reads, declared once: its name, how it is read and checked, its default and
what it means. app.config reads them; ``python -m app.core.settings_docs`` writes the tables of
docs/configuration.md and .env.example from them; tests/conftest.py clears them before a run."""

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from marshmallow import Schema, ValidationError, fields
from marshmallow.validate import Range

MODES = ("development", "testing", "production")
APP = "app.config"  # where the app's own settings are read; the processes' are read where each says


def networks(text: str) -> tuple[str, ...]:
    """``text``'s addresses and networks, each as ``a.b.c.d/n`` (``none``: none); ValueError names one that is not."""
    if text.strip().lower() == "none":
        return ()
    parsed = []
    for item in filter(None, (item.strip() for item in text.split(","))):
        try:
            parsed.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ValueError(item) from None
    return tuple(parsed)


def network_list(text: str) -> tuple[str, ...]:
    """Comma-separated addresses or CIDR networks (``127.0.0.1,10.0.0.0/8``), or ``none``."""
    try:
        return networks(text)
    except ValueError as error:
        raise ValidationError(f"must list addresses or networks like 10.0.0.0/8 (or be none), not {error.args[0]!r}")


def seconds_range(text: str) -> tuple[float, float]:
    """``min-max`` seconds (or one number), e.g. ``1-2``, as ``(min, max)``."""
    low, _, high = text.strip().partition("-")
    try:
        bounds = (float(low), float(high or low))
    except ValueError:
        raise ValidationError(f"must look like 1-2 (seconds), not {text!r}") from None
    if not 0 <= bounds[0] <= bounds[1]:
        raise ValidationError(f"must be min-max with 0 <= min <= max, not {text!r}")
    return bounds


def one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    """A reader of one of ``choices`` in any case, giving it back as spelt there."""
    spelt = {choice.lower(): choice for choice in choices}

    def read(text: str) -> str:
        if text.strip().lower() not in spelt:
            raise ValidationError(f"must be one of {', '.join(choices)}, not {text!r}")
        return spelt[text.strip().lower()]
    return read


@dataclass(frozen=True)
class Kind:
    """How a setting's text is read (a marshmallow field), and what the docs say it accepts."""

    accepts: str
    new_field: Callable[[], fields.Field]
    choices: tuple[str, ...] = ()


def whole(accepts: str, error: str, minimum: int, maximum: int | None = None) -> Kind:
    """A whole number from ``minimum`` (to ``maximum``)."""
    return Kind(accepts, lambda: fields.Integer(validate=Range(min=minimum, max=maximum, error=error), error_messages={
        "invalid": "must be a whole number, not {input!r}"}))


def cleaned(accepts: str, clean: Callable[[str], str] | None = None) -> Kind:
    """Text, passed through ``clean``."""
    return Kind(accepts, lambda: fields.Function(deserialize=clean) if clean else fields.String())


def choice(*choices: str) -> Kind:
    """One of ``choices``, in any case."""
    listed = [f"`{option}`" for option in choices]
    return Kind(f"{', '.join(listed[:-1])} or {listed[-1]}", lambda: fields.Function(deserialize=one_of(choices)),
                choices)


POSITIVE = whole("whole number ≥ 1", "must be positive, not {input}", 1)
COUNT = whole("whole number ≥ 0", "must be 0 or more, not {input}", 0)
PORT = whole("port (1-65535)", "must be a port number (1-65535), not {input}", 1, 65535)
SECONDS = Kind("seconds > 0", lambda: fields.Float(
    validate=Range(min=0, min_inclusive=False, error="must be positive, not {input}"),
    error_messages={"invalid": "must be a number, not {input!r}", "special": "must be a finite number"}))
SWITCH = Kind("`true` or `false`", lambda: fields.Boolean(error_messages={"invalid": "must be true or false, not {input!r}"}))
TEXT = cleaned("text")
SECRET = cleaned("text (a secret)")
URL = cleaned("URL", lambda url: url.rstrip("/"))
ADDRESS = cleaned("host or address", str.strip)
REGION = cleaned("region code", lambda code: code.strip().upper())
PATH = cleaned("path")
NETWORKS = Kind("addresses or CIDR networks, comma-separated, or `none`", lambda: fields.Function(deserialize=network_list))
RANGE = Kind("`min-max` seconds", lambda: fields.Function(deserialize=seconds_range))


@dataclass(frozen=True)
class Setting:
    """One environment variable: how it is read, its default (by APP_ENV where ``modes`` says), what it means."""

    name: str
    kind: Kind
    default: object
    meaning: str
    modes: Mapping[str, object] = field(default_factory=dict)  # other defaults, by APP_ENV
    shown: str | None = None  # the default as the docs say it, where the code works it out
    example: str | None = None  # .env.example's value where the default is unset
    key: str | None = None  # the app's name for it, where that is not ``name``
    read_by: str = APP

    def default_in(self, mode: str):
        """The default under APP_ENV ``mode``."""
        return self.modes.get(mode, self.default)


def text_of(value) -> str:
    """``value`` as it would be written in the environment (and is shown in the docs)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple) and all(isinstance(bound, float) for bound in value):
        return "-".join(map(text_of, value))
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


SECTIONS = {
    "Mode and signing keys": (
        Setting("APP_ENV", choice(*MODES), "development",
                "production refuses to start without 32-byte signing keys that are not a repeated or trivial string, "
                "`DATABASE_URL`, `REDIS_URL`, `SMS_BACKEND=twilio` and `MAIL_BACKEND=smtp` with their settings, and "
                "with `RATELIMIT_ENABLED=false` or `/metrics` open to public addresses (see [Security](security.md))"),
        Setting("SECRET_KEY", SECRET, None,
                "signs the list cursors; production refuses fewer than 32 bytes, fewer than 6 distinct characters, a "
                "repeated pattern (`abcabc...`) or a run (`abcd...`, `1234...`): "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` makes a good one",
                shown="generated per instance (`instance/secrets.json`) outside production"),
        Setting("JWT_SECRET_KEY", SECRET, None, "signs the tokens (JWTs); production refuses it as `SECRET_KEY`",
                shown="generated per instance (`instance/secrets.json`) outside production"),
    ),
    "Database, Redis and background work": (
        Setting("DATABASE_URL", TEXT, None,
                "SQLAlchemy URL; `postgresql://` and `postgres://` are read as `postgresql+psycopg://` (psycopg 3 is "
                "the installed driver)", key="SQLALCHEMY_DATABASE_URI",
                shown="`sqlite:///instance/agora.db` outside production; unset in production",
                example="postgresql+psycopg://postgres@127.0.0.1:5432/agora"),
        Setting("REDIS_URL", TEXT, None,
                "the Celery broker (unless `CELERY_BROKER_URL`), the JWT blocklist, ended sessions and session "
                "generations, phone and mail codes, the dev outboxes, live events and every rate limit; required in "
                "production", shown="unset: in-process fakeredis", example="redis://127.0.0.1:6379/0"),
        Setting("REDIS_KEY_PREFIX", TEXT, "agora:",
                "prefix of every key Agora writes, so several deployments (or test runs) can share one Redis"),
        Setting("CELERY_BROKER_URL", TEXT, None, "the Celery broker",
                shown="`REDIS_URL`; with neither, tasks run in the web process"),
        Setting("INLINE_TASK_THREADS", POSITIVE, 4, "threads running tasks in the web process when there is no broker"),
        Setting("CELERY_VISIBILITY_TIMEOUT", POSITIVE, 3600,
                "Redis broker: a task whose worker died unacknowledged is delivered again once this many seconds have "
                "passed (every running worker looks for such tasks every 2 s)"),
        Setting("WORKER_HEARTBEAT_SECONDS", POSITIVE, 10, "how often each Celery worker writes its heartbeat to Redis"),
        Setting("WORKER_HEARTBEAT_MAX_AGE_SECONDS", POSITIVE, 60,
                "`/readyz` answers 503 (`worker: stale`) when the newest heartbeat is older than this"),
        Setting("CHECKS_RESUME_AFTER_SECONDS", POSITIVE, 60,
                "`flask profile-checks resume` re-queues checks pending at least this long"),
    ),
    "Email checks: Hunter and Clearbit": (
        Setting("HUNTER_API_KEY", SECRET, None,
                "email verification (`{HUNTER_BASE_URL}/email-verifier?email=...&api_key=...`); with no key, "
                "`email_status` is `skipped`"),
        Setting("HUNTER_BASE_URL", URL, "https://api.hunter.io/v2", "Hunter's API"),
        Setting("CLEARBIT_API_KEY", SECRET, None,
                "person enrichment (`{CLEARBIT_BASE_URL}/combined/find?email=...`, `Authorization: Bearer <key>`)"),
        Setting("CLEARBIT_BASE_URL", URL, "https://person.clearbit.com/v2", "Clearbit's API"),
        Setting("ENRICHMENT_PROVIDER", choice("clearbit", "hunter"), None,
                "`hunter` is Hunter's Combined Enrichment (`{HUNTER_BASE_URL}/combined/find`, the same `{person, "
                "company}` shape); with no usable key, `enrichment_status` is `skipped`",
                shown="`clearbit` when `CLEARBIT_API_KEY` is set, else `hunter` when `HUNTER_API_KEY` is set, "
                      "else unset"),
        Setting("HUNTER_TIMEOUT_SECONDS", SECONDS, 10.0, "per-call timeout"),
        Setting("CLEARBIT_TIMEOUT_SECONDS", SECONDS, 10.0, "per-call timeout"),
        Setting("INTEGRATION_MAX_ATTEMPTS", POSITIVE, 8, "calls per check before it ends in a terminal status"),
        Setting("INTEGRATION_BACKOFF_SECONDS", SECONDS, 2.0,
                "exponential backoff: attempt *n* waits between half and all of this × 2^(n−1) seconds, capped; a "
                "longer `Retry-After` wins (up to the cap)"),
        Setting("INTEGRATION_BACKOFF_MAX_SECONDS", SECONDS, 300.0, "the backoff's cap"),
    ),
    "Sign-in and tokens": (
        Setting("JWT_ACCESS_MINUTES", POSITIVE, 15, "an access token's life, in minutes"),
        Setting("JWT_REFRESH_DAYS", POSITIVE, 30, "a refresh token's life, in days"),
        Setting("PASSWORD_HASH_TIME_COST", POSITIVE, 2,
                "argon2id passes (OWASP's recommended minimum); raise the three costs on strong hardware",
                modes={"testing": 1}),
        Setting("PASSWORD_HASH_MEMORY_KIB", POSITIVE, 19 * 1024, "argon2id memory, in KiB", modes={"testing": 1024}),
        Setting("PASSWORD_HASH_PARALLELISM", POSITIVE, 1, "argon2id lanes"),
        Setting("LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS", POSITIVE, 10,
                "failed logins for one account from one address per `LOGIN_FAILURE_WINDOW_SECONDS`"),
        Setting("LOGIN_FAILURES_PER_ADDRESS", POSITIVE, 100,
                "failed logins from one address, whatever the account, per `LOGIN_FAILURE_WINDOW_SECONDS`"),
        Setting("LOGIN_FAILURE_WINDOW_SECONDS", POSITIVE, 900, "the sliding window of the two limits above"),
        Setting("LOGIN_FAILURES_PER_ACCOUNT", POSITIVE, 100,
                "failed logins for one account from every address per `LOGIN_ACCOUNT_WINDOW_SECONDS` "
                "(NIST 800-63B: at most 100)"),
        Setting("LOGIN_ACCOUNT_WINDOW_SECONDS", POSITIVE, 86400, "the sliding window of the per-account limit"),
    ),
    "Write limits": (
        Setting("RATELIMIT_ENABLED", SWITCH, True,
                "`false` turns off the per-address, per-account and per-user limits: phone-code requests and checks "
                "per address, failed logins, the write limits below (load tests, the bot's own server); production "
                "refuses `false` (there the bot drives a server with `--base-url`). The resend cooldown, the hourly "
                "cap per phone and the attempt limit are rules of the code and stay on"),
        Setting("POSTS_PER_MINUTE", POSITIVE, 30,
                "new posts per user in a sliding minute; past it, 429 `too_many_requests` with `Retry-After` (as for "
                "the limits below)"),
        Setting("LIKES_PER_MINUTE", POSITIVE, 120, "likes (`POST /posts/{id}/like`) per user in a sliding minute"),
        Setting("MESSAGES_PER_MINUTE", POSITIVE, 60, "messages per user in a sliding minute"),
        Setting("CONVERSATIONS_PER_HOUR", POSITIVE, 30,
                "new conversations per user in a sliding hour; refused ones (an unknown participant) count too, so "
                "probing for user ids is limited alike"),
        Setting("SIGNUPS_PER_IP_PER_HOUR", POSITIVE, 20,
                "email signups from one client address in a sliding hour, refused ones (`email_taken`) included; "
                "behind a reverse proxy set `TRUSTED_PROXIES`, or every client shares the proxy's address"),
        Setting("PASSWORD_RESETS_PER_IP_PER_HOUR", POSITIVE, 10,
                "password reset requests (`POST /auth/password/forgot`) per client address in a sliding hour"),
    ),
    "Phone codes and SMS": (
        Setting("SMS_BACKEND", choice("console", "outbox", "twilio"), "console",
                "`console` logs the message, code included; `outbox` keeps it in Redis for "
                "`GET /api/v1/dev/sms-outbox`, which exists only then; `twilio` needs `TWILIO_ACCOUNT_SID`, "
                "`TWILIO_AUTH_TOKEN` and `TWILIO_FROM`, in every mode. Production accepts `twilio` only",
                modes={"production": None}),
        Setting("SMS_DELAY_SECONDS", RANGE, (1.0, 2.0),
                "the simulated gateway delay of the `console` and `outbox` backends, waited in the delivery task"),
        Setting("TWILIO_ACCOUNT_SID", TEXT, None,
                "the twilio backend's account (`POST {TWILIO_BASE_URL}/2010-04-01/Accounts/{sid}/Messages.json`)"),
        Setting("TWILIO_AUTH_TOKEN", SECRET, None, "the twilio backend's token"),
        Setting("TWILIO_FROM", TEXT, None, "the number the twilio backend sends from"),
        Setting("TWILIO_BASE_URL", URL, "https://api.twilio.com", "Twilio's API"),
        Setting("TWILIO_TIMEOUT_SECONDS", SECONDS, 10.0, "per-call timeout"),
        Setting("PHONE_DEFAULT_REGION", REGION, None, "region for numbers given without `+`", example="RU"),
        Setting("PHONE_CODE_TTL_SECONDS", POSITIVE, 300, "a phone code's life"),
        Setting("PHONE_CODE_RESEND_SECONDS", POSITIVE, 60, "the wait before a new code for the same phone"),
        Setting("PHONE_CODE_MAX_ATTEMPTS", POSITIVE, 5, "wrong codes that burn the code"),
        Setting("PHONE_CODES_PER_HOUR", POSITIVE, 5, "codes per phone per hour"),
        Setting("PHONE_REQUESTS_PER_IP_PER_HOUR", POSITIVE, 30,
                "per client address: code requests, and separately code checks, in a sliding hour"),
    ),
    "Mail": (
        Setting("MAIL_BACKEND", choice("console", "outbox", "smtp"), "console",
                "where mailed codes (address confirmation, password reset) go: `console` logs the message, code "
                "included; `outbox` keeps the last 20 per address in Redis for `GET /api/v1/dev/mail-outbox`, which "
                "exists only then; `smtp` needs `SMTP_HOST` and `SMTP_FROM`, in every mode. Production accepts `smtp` "
                "only", modes={"production": None}),
        Setting("SMTP_HOST", TEXT, None, "the smtp backend's server (the standard library's `smtplib`)"),
        Setting("SMTP_PORT", PORT, 587, "its port"),
        Setting("SMTP_USERNAME", TEXT, None, "the login (none when unset)"),
        Setting("SMTP_PASSWORD", SECRET, None, "the login's password"),
        Setting("SMTP_FROM", TEXT, None, "the `From` header, e.g. `Agora <no-reply@example.com>`"),
        Setting("SMTP_STARTTLS", SWITCH, True,
                "STARTTLS before the login, verifying the server's certificate against the system's trust store "
                "(`SSL_CERT_FILE` names another); `false` only for a server on the same host. A 4xx reply or a lost "
                "connection is tried again with the integrations' backoff, then `failed`; a 5xx or a certificate that "
                "does not verify fails at once"),
        Setting("SMTP_TIMEOUT_SECONDS", SECONDS, 10.0, "per-connection timeout"),
        Setting("EMAIL_CODE_TTL_SECONDS", POSITIVE, 900, "a mailed code's life (confirmation and reset codes)"),
        Setting("EMAIL_CODE_RESEND_SECONDS", POSITIVE, 60, "the wait before a new code for the same address and purpose"),
        Setting("EMAIL_CODE_MAX_ATTEMPTS", POSITIVE, 5, "wrong codes that burn the code"),
        Setting("EMAIL_CODES_PER_HOUR", POSITIVE, 5, "codes per address and purpose per hour"),
    ),
    "Live updates": (
        Setting("EVENTS_RETENTION", POSITIVE, 100,
                "events kept per user for resuming (at least this many of the last day); see [events](events.md)"),
        Setting("EVENTS_HEARTBEAT_SECONDS", POSITIVE, 15, "the keep-alive and token-check interval of a stream"),
        Setting("EVENTS_MAX_STREAMS_PER_USER", POSITIVE, 5, "open streams per user (past it: 429 `too_many_streams`)"),
        Setting("EVENTS_TICKET_SECONDS", POSITIVE, 30, "a stream ticket's life"),
    ),
    "Logs, metrics and proxies": (
        Setting("LOG_LEVEL", choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), "INFO", "the root logger's level"),
        Setting("LOG_FORMAT", choice("text", "json"), "text",
                "`text`: `<time> <LEVEL> <logger> [<request id>] <message>`; `json`: one JSON object per line (see "
                "[Request ids and logs](operations.md#request-ids-and-logs))"),
        Setting("TRUSTED_PROXIES", COUNT, 0,
                "reverse-proxy hops in front of Agora whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed "
                "(werkzeug's `ProxyFix`); per-address limits then see the real client. Leave 0 when clients reach "
                "gunicorn directly, or anyone could pick their address"),
        Setting("METRICS_ALLOWED_NETWORKS", NETWORKS, ("127.0.0.1/32", "::1/128"),
                "clients that may read `GET /metrics` (and a worker's metrics port); `none` allows no address (then "
                "only `METRICS_TOKEN` opens it). Behind `TRUSTED_PROXIES` the client's address is the one checked. "
                "Production allows only loopback and private networks (`127.0.0.0/8`, `10.0.0.0/8`, `172.16.0.0/12`, "
                "`192.168.0.0/16`, `100.64.0.0/10`, `::1`, `fc00::/7`): a scraper elsewhere uses `METRICS_TOKEN`"),
        Setting("METRICS_TOKEN", SECRET, None,
                "a bearer token that opens `/metrics` from any address (compared in constant time); production wants "
                "at least 32 bytes, not a repeated or trivial string"),
        Setting("WORKER_METRICS_PORT", PORT, None,
                "a Celery worker serves its own `/metrics` on this port; it needs `PROMETHEUS_MULTIPROC_DIR` (see "
                "[Metrics](operations.md#metrics))", shown="unset (off)"),
        Setting("WORKER_METRICS_ADDRESS", ADDRESS, "127.0.0.1", "the address of a worker's metrics port"),
    ),
}

# Read by the processes around the app (gunicorn's configuration, the Procfile, prometheus_client), not by it.
PROCESS_SETTINGS = (
    Setting("PROMETHEUS_MULTIPROC_DIR", PATH, None,
            "prometheus_client's multiprocess mode: the directory where each process writes its samples. gunicorn's "
            "master creates it (or empties it of old `*.db` files) at start; a worker with `WORKER_METRICS_PORT` "
            "needs one of its own, set in its environment. Must be set before the process starts (prometheus_client "
            "reads it at import)", shown="gunicorn: a private temporary directory; elsewhere unset",
            read_by="gunicorn.conf.py"),
    Setting("BIND", ADDRESS, "127.0.0.1:8000", "gunicorn's address", read_by="gunicorn.conf.py"),
    Setting("WEB_CONCURRENCY", POSITIVE, None, "gunicorn's processes",
            shown="with `REDIS_URL` 2 × cores + 1, else 1", read_by="gunicorn.conf.py"),
    Setting("GUNICORN_THREADS", POSITIVE, None,
            "threads per gunicorn process: one runs gunicorn's sync worker, more its threaded one",
            shown="with `REDIS_URL` 1, else 32", read_by="gunicorn.conf.py"),
    Setting("GUNICORN_CONTROL_SOCKET", PATH, None,
            "gunicorn 27's control socket, at a path of this instance's own (its default path is shared by every "
            "gunicorn on the host)", shown="unset: no control socket", read_by="gunicorn.conf.py"),
    Setting("PROXY_BIND", ADDRESS, "127.0.0.1:8000", "with real services (the `Procfile`): nginx's one address",
            read_by="deploy/nginx.sh"),
    Setting("API_BIND", ADDRESS, "127.0.0.1:8001", "the API's gunicorn, behind nginx", read_by="Procfile"),
    Setting("STREAMS_BIND", ADDRESS, "127.0.0.1:8002", "the streaming processes, behind nginx",
            read_by="gunicorn.streams.conf.py"),
    Setting("STREAMS_CONCURRENCY", POSITIVE, 1, "streaming processes (gevent) per host",
            read_by="gunicorn.streams.conf.py"),
    Setting("STREAMS_CONNECTIONS", POSITIVE, 12000, "open connections per streaming process",
            read_by="gunicorn.streams.conf.py"),
    Setting("STREAMS_CONTROL_SOCKET", PATH, None, "the streaming processes' gunicorn control socket (off unless set)",
            read_by="gunicorn.streams.conf.py"),
)

SETTINGS = {setting.name: setting for section in SECTIONS.values() for setting in section}
# Every variable that configures Agora or its processes: the test suite clears them, whatever the shell exports.
NAMES = (*SETTINGS, *(setting.name for setting in PROCESS_SETTINGS))


# One field per setting of the app, by its name in the environment.
SCHEMA = Schema.from_dict({name: setting.kind.new_field() for name, setting in SETTINGS.items()}, name="Settings")()


def read(environ: Mapping[str, str]) -> dict:
    """Each setting of the app by its config key: from ``environ``, else its default under the APP_ENV named there
    (an empty value is unset). Raises marshmallow's ValidationError, whose ``messages`` name every value refused."""
    given = SCHEMA.load({name: value for name, value in environ.items() if name in SETTINGS and value})
    mode = given.get("APP_ENV", SETTINGS["APP_ENV"].default)
    return {setting.key or name: given.get(name, setting.default_in(mode)) for name, setting in SETTINGS.items()}


def refusal(name: str, value) -> str | None:
    """Why setting ``name`` refuses ``value`` given as an override, read as its environment text would be; or None."""
    try:
        read({name: text_of(value)})
    except ValidationError as error:
        return f"{name} {error.messages[name][0]}"
    return None
