"""Configuration: one class per APP_ENV, fed once from the environment."""

import ipaddress
import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

ENVIRONMENTS = ("development", "testing", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
SMS_BACKENDS = ("console", "outbox", "twilio")
MAIL_BACKENDS = ("console", "outbox", "smtp")
TWILIO_SETTINGS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM")
SMTP_SETTINGS = ("SMTP_HOST", "SMTP_FROM")
# HS256 keys: anything shorter than the hash's 32 bytes is guessable offline from one token.
MIN_SECRET_BYTES = 32
# However long, a key of a few characters, a repeated pattern or a run (abcd..., 1234...) is guessed first.
MIN_SECRET_DISTINCT = 6
RANDOM_KEY_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(48))' makes one"
# The only networks production lets read /metrics by address: loopback and private ranges (RFC 1918, RFC 6598's
# shared space, IPv6 unique local). A scraper anywhere else presents METRICS_TOKEN.
SCRAPER_NETWORKS = tuple(ipaddress.ip_network(network) for network in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "::1/128", "fc00::/7"))


class ConfigError(RuntimeError):
    """The environment describes a configuration the app refuses to run with."""


class BaseConfig:
    APP_ENV = "development"
    TESTING = False
    LOG_LEVEL = "INFO"
    # text: "<time> <LEVEL> <logger> [<request id>] <message>"; json: one JSON object per line.
    LOG_FORMAT = "text"
    # Who may read GET /metrics: clients in these networks, or anyone presenting METRICS_TOKEN as a bearer token.
    METRICS_ALLOWED_NETWORKS = ("127.0.0.1/32", "::1/128")
    METRICS_TOKEN = None
    # A Celery worker serves its own metrics on this port (unset: it serves none), on WORKER_METRICS_ADDRESS.
    WORKER_METRICS_PORT = None
    WORKER_METRICS_ADDRESS = "127.0.0.1"
    # Reverse proxies in front of the app: their X-Forwarded-For/-Proto hops are believed (0: none).
    TRUSTED_PROXIES = 0

    # A generous cap: the largest valid request (a 10,000-character post, JSON-escaped) fits well inside.
    MAX_CONTENT_LENGTH = 256 * 1024

    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_KEY_PREFIX = "agora:"

    JWT_ACCESS_MINUTES = 15
    JWT_REFRESH_DAYS = 30
    JWT_TOKEN_LOCATION = ["headers"]
    JWT_ALGORITHM = "HS256"

    # argon2id; the defaults are OWASP's recommended minimum (t=2, m=19 MiB, p=1).
    PASSWORD_HASH_TIME_COST = 2
    PASSWORD_HASH_MEMORY_KIB = 19 * 1024
    PASSWORD_HASH_PARALLELISM = 1

    HUNTER_API_KEY = None
    HUNTER_BASE_URL = "https://api.hunter.io/v2"
    HUNTER_TIMEOUT_SECONDS = 10.0
    CLEARBIT_API_KEY = None
    CLEARBIT_BASE_URL = "https://person.clearbit.com/v2"
    CLEARBIT_TIMEOUT_SECONDS = 10.0
    ENRICHMENT_PROVIDER = None

    # Retries of provider calls: exponential backoff with full jitter, capped, then a terminal status.
    INTEGRATION_MAX_ATTEMPTS = 8
    INTEGRATION_BACKOFF_SECONDS = 2.0
    INTEGRATION_BACKOFF_MAX_SECONDS = 300.0
    # `flask profile-checks resume` re-queues checks still pending this long after they were queued.
    CHECKS_RESUME_AFTER_SECONDS = 60
    # Without a broker, tasks run on this many threads of the web process.
    INLINE_TASK_THREADS = 4
    # Redis broker: an unacknowledged task (its worker died) is delivered again after this long.
    CELERY_VISIBILITY_TIMEOUT = 3600
    # Workers write a heartbeat this often; /readyz wants one younger than WORKER_HEARTBEAT_MAX_AGE_SECONDS.
    WORKER_HEARTBEAT_SECONDS = 10
    WORKER_HEARTBEAT_MAX_AGE_SECONDS = 60

    # Live events (SPEC 12): kept per user, heartbeat, open streams per user, a ticket's life.
    EVENTS_RETENTION = 100
    EVENTS_HEARTBEAT_SECONDS = 15
    EVENTS_MAX_STREAMS_PER_USER = 5
    EVENTS_TICKET_SECONDS = 30
    # Whether this process serves GET /api/v1/events: the embedded default's one process does; with a Redis
    # server the API's workers do not (streams would hold them) and the streaming processes do (app.events.wsgi).
    EVENTS_SERVED_HERE = None

    RATELIMIT_ENABLED = True
    # Write limits (SPEC 3): per user, and signups per client address; their windows are in app.core.limits.
    POSTS_PER_MINUTE = 30
    LIKES_PER_MINUTE = 120
    MESSAGES_PER_MINUTE = 60
    CONVERSATIONS_PER_HOUR = 30
    SIGNUPS_PER_IP_PER_HOUR = 20
    # Password reset requests per client address (and per address: EMAIL_CODES_PER_HOUR, known or not), SPEC 4.
    PASSWORD_RESETS_PER_IP_PER_HOUR = 10
    # Failed logins: per account and address, per account, per address (SPEC 4), and their windows.
    LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS = 10
    LOGIN_FAILURES_PER_ACCOUNT = 100
    LOGIN_FAILURES_PER_ADDRESS = 100
    LOGIN_FAILURE_WINDOW_SECONDS = 900
    LOGIN_ACCOUNT_WINDOW_SECONDS = 86400

    SMS_BACKEND = "console"
    SMS_DELAY_SECONDS = (1.0, 2.0)
    SMS_OUTBOX_SIZE = 20
    TWILIO_ACCOUNT_SID = None
    TWILIO_AUTH_TOKEN = None
    TWILIO_FROM = None
    TWILIO_BASE_URL = "https://api.twilio.com"
    TWILIO_TIMEOUT_SECONDS = 10.0
    PHONE_DEFAULT_REGION = None
    PHONE_CODE_TTL_SECONDS = 300
    PHONE_CODE_RESEND_SECONDS = 60
    PHONE_CODE_MAX_ATTEMPTS = 5
    PHONE_CODES_PER_HOUR = 5
    # Requests for codes (and code checks) per client address per hour.
    PHONE_REQUESTS_PER_IP_PER_HOUR = 30

    MAIL_BACKEND = "console"
    MAIL_OUTBOX_SIZE = 20
    SMTP_HOST = None
    SMTP_PORT = 587
    SMTP_USERNAME = None
    SMTP_PASSWORD = None
    SMTP_FROM = None
    SMTP_STARTTLS = True
    SMTP_TIMEOUT_SECONDS = 10.0
    # Codes mailed to confirm an address or reset a password: the phone code's rules, a longer life.
    EMAIL_CODE_TTL_SECONDS = 900
    EMAIL_CODE_RESEND_SECONDS = 60
    EMAIL_CODE_MAX_ATTEMPTS = 5
    EMAIL_CODES_PER_HOUR = 5

    API_TITLE = "Agora"
    API_VERSION = "1"
    OPENAPI_VERSION = "3.0.3"
    # The first thing /docs and /redoc show: how to get a token, and the error shape.
    API_SPEC_OPTIONS = {"info": {"description": (
        "Agora's REST API: email and phone accounts, posts and likes, invite codes and referrals, "
        "conversations with points.\n\n"
        "**Get a token.** `POST /api/v1/auth/signup` `{email, password, name}` (or `POST /api/v1/auth/login` "
        "for an existing account) answers an `access_token` and a `refresh_token`. By phone: "
        "`POST /api/v1/auth/phone/code` `{phone}` sends a 4-digit code by SMS (in development it is in the "
        "server's log, or at `GET /api/v1/dev/sms-outbox` with `SMS_BACKEND=outbox`), then "
        "`POST /api/v1/auth/phone/verify` `{phone, code}`. In Swagger UI (`/docs`), press **Authorize** and "
        "paste the `access_token` alone, without `Bearer `: it is kept across reloads.\n\n"
        "**Tokens expire.** An access token lasts 15 minutes (`JWT_ACCESS_MINUTES`); "
        "`POST /api/v1/auth/refresh`, with the `refresh_token` (30 days) as the bearer token, answers a new one. "
        "Swagger UI draws a padlock on the operations that need a token; their 401 answer says why one was "
        "refused.\n\n"
        "**Errors.** Every error answers `{\"error\": {\"status\", \"code\", \"message\", \"fields\"}}`, "
        "the `Error` schema shown under each operation's responses: `code` is a stable snake_case string "
        "(each operation lists its own; the README lists them all) and `fields` holds the messages of a 422, "
        "by field."
    )}}
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    # Swagger UI's page is app.core.docs's own (/docs), not flask-smorest's: it adds a plugin.
    SWAGGER_UI_ASSETS_URL = "/docs/assets/swagger/"
    # No badge from validator.swagger.io: it would send the document's address to a third party.
    # persistAuthorization: the token given to Authorize survives a reload (kept in the browser's localStorage).
    OPENAPI_SWAGGER_UI_CONFIG = {"validatorUrl": None, "persistAuthorization": True}
    OPENAPI_REDOC_PATH = "redoc"
    OPENAPI_REDOC_URL = "/docs/assets/redoc/redoc.standalone.js"


class DevelopmentConfig(BaseConfig):
    APP_ENV = "development"


class TestingConfig(BaseConfig):
    APP_ENV = "testing"
    TESTING = True
    # The suite hashes hundreds of passwords: keep argon2id, lower its cost.
    PASSWORD_HASH_TIME_COST = 1
    PASSWORD_HASH_MEMORY_KIB = 1024


class ProductionConfig(BaseConfig):
    APP_ENV = "production"
    SMS_BACKEND = None  # no default: console and outbox show the codes to others (SPEC 5)
    MAIL_BACKEND = None  # the same for mailed codes (SPEC 4)


CONFIG_CLASSES = {cls.APP_ENV: cls for cls in (DevelopmentConfig, TestingConfig, ProductionConfig)}


def build_config(environ: Mapping[str, str], instance_path: str) -> dict:
    """Return the settings for the APP_ENV named in ``environ``, overlaid with its variables."""
    app_env = environ.get("APP_ENV", "development").strip().lower()
    if app_env not in CONFIG_CLASSES:
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {app_env!r}")
    cls = CONFIG_CLASSES[app_env]
    config = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}

    # Production has no fallback database: validate() refuses to start without DATABASE_URL.
    embedded_database = None if app_env == "production" else f"sqlite:///{Path(instance_path) / 'agora.db'}"
    config["SQLALCHEMY_DATABASE_URI"] = environ.get("DATABASE_URL") or embedded_database
    config["REDIS_URL"] = environ.get("REDIS_URL") or None
    config["CELERY_BROKER_URL"] = environ.get("CELERY_BROKER_URL") or None  # else REDIS_URL: see finalize
    for name in ("HUNTER_API_KEY", "HUNTER_BASE_URL", "CLEARBIT_API_KEY", "CLEARBIT_BASE_URL"):
        if environ.get(name):
            config[name] = environ[name].rstrip("/") if name.endswith("_URL") else environ[name]
    for name in ("HUNTER_TIMEOUT_SECONDS", "CLEARBIT_TIMEOUT_SECONDS", "TWILIO_TIMEOUT_SECONDS", "SMTP_TIMEOUT_SECONDS",
                 "INTEGRATION_BACKOFF_SECONDS",
                 "INTEGRATION_BACKOFF_MAX_SECONDS"):
        if environ.get(name):
            config[name] = positive_float(name, environ[name])
    config["ENRICHMENT_PROVIDER"] = enrichment_provider(environ, config)
    for name in ("JWT_ACCESS_MINUTES", "JWT_REFRESH_DAYS", "PASSWORD_HASH_TIME_COST",
                 "PASSWORD_HASH_MEMORY_KIB", "PASSWORD_HASH_PARALLELISM", "INTEGRATION_MAX_ATTEMPTS",
                 "CHECKS_RESUME_AFTER_SECONDS", "INLINE_TASK_THREADS", "CELERY_VISIBILITY_TIMEOUT",
                 "WORKER_HEARTBEAT_SECONDS", "WORKER_HEARTBEAT_MAX_AGE_SECONDS",
                 "PHONE_CODE_TTL_SECONDS", "PHONE_CODE_RESEND_SECONDS", "PHONE_CODE_MAX_ATTEMPTS",
                 "PHONE_CODES_PER_HOUR", "PHONE_REQUESTS_PER_IP_PER_HOUR", "EMAIL_CODE_TTL_SECONDS",
                 "EMAIL_CODE_RESEND_SECONDS", "EMAIL_CODE_MAX_ATTEMPTS", "EMAIL_CODES_PER_HOUR",
                 "LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS", "LOGIN_FAILURES_PER_ACCOUNT", "LOGIN_FAILURES_PER_ADDRESS",
                 "LOGIN_FAILURE_WINDOW_SECONDS", "LOGIN_ACCOUNT_WINDOW_SECONDS",
                 "POSTS_PER_MINUTE", "LIKES_PER_MINUTE", "MESSAGES_PER_MINUTE", "CONVERSATIONS_PER_HOUR",
                 "SIGNUPS_PER_IP_PER_HOUR", "PASSWORD_RESETS_PER_IP_PER_HOUR", "EVENTS_RETENTION",
                 "EVENTS_HEARTBEAT_SECONDS", "EVENTS_MAX_STREAMS_PER_USER", "EVENTS_TICKET_SECONDS"):
        if environ.get(name):
            config[name] = positive_int(name, environ[name])
    if environ.get("TRUSTED_PROXIES"):
        config["TRUSTED_PROXIES"] = non_negative_int("TRUSTED_PROXIES", environ["TRUSTED_PROXIES"])
    if environ.get("LOG_LEVEL"):
        config["LOG_LEVEL"] = choice("LOG_LEVEL", environ["LOG_LEVEL"], LOG_LEVELS)
    if environ.get("LOG_FORMAT"):
        config["LOG_FORMAT"] = choice("LOG_FORMAT", environ["LOG_FORMAT"], LOG_FORMATS)
    if environ.get("METRICS_ALLOWED_NETWORKS"):
        config["METRICS_ALLOWED_NETWORKS"] = networks("METRICS_ALLOWED_NETWORKS", environ["METRICS_ALLOWED_NETWORKS"])
    if environ.get("METRICS_TOKEN"):
        config["METRICS_TOKEN"] = environ["METRICS_TOKEN"]
    if environ.get("WORKER_METRICS_PORT"):
        config["WORKER_METRICS_PORT"] = port("WORKER_METRICS_PORT", environ["WORKER_METRICS_PORT"])
    if environ.get("WORKER_METRICS_ADDRESS"):
        config["WORKER_METRICS_ADDRESS"] = environ["WORKER_METRICS_ADDRESS"].strip()
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_BASE_URL"):
        if environ.get(name):
            config[name] = environ[name].rstrip("/") if name.endswith("_URL") else environ[name]
    if environ.get("SMS_BACKEND"):
        config["SMS_BACKEND"] = choice("SMS_BACKEND", environ["SMS_BACKEND"], SMS_BACKENDS)
    if environ.get("MAIL_BACKEND"):
        config["MAIL_BACKEND"] = choice("MAIL_BACKEND", environ["MAIL_BACKEND"], MAIL_BACKENDS)
    for name in ("SMTP_HOST", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_FROM"):
        if environ.get(name):
            config[name] = environ[name]
    if environ.get("SMTP_PORT"):
        config["SMTP_PORT"] = port("SMTP_PORT", environ["SMTP_PORT"])
    if environ.get("SMTP_STARTTLS"):
        config["SMTP_STARTTLS"] = boolean("SMTP_STARTTLS", environ["SMTP_STARTTLS"])
    if environ.get("SMS_DELAY_SECONDS"):
        config["SMS_DELAY_SECONDS"] = delay_range("SMS_DELAY_SECONDS", environ["SMS_DELAY_SECONDS"])
    if environ.get("PHONE_DEFAULT_REGION"):
        config["PHONE_DEFAULT_REGION"] = environ["PHONE_DEFAULT_REGION"].strip().upper()
    if environ.get("RATELIMIT_ENABLED"):
        config["RATELIMIT_ENABLED"] = boolean("RATELIMIT_ENABLED", environ["RATELIMIT_ENABLED"])
    if environ.get("REDIS_KEY_PREFIX"):
        config["REDIS_KEY_PREFIX"] = environ["REDIS_KEY_PREFIX"]

    config.update(signing_keys(environ, app_env, instance_path))
    return config


def finalize(config: dict) -> None:
    """Derive the settings that depend on others, after any overrides were applied."""
    from datetime import timedelta

    config["CELERY_BROKER_URL"] = config.get("CELERY_BROKER_URL") or config["REDIS_URL"]
    if config["EVENTS_SERVED_HERE"] is None:
        config["EVENTS_SERVED_HERE"] = not config["REDIS_URL"]
    config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(minutes=config["JWT_ACCESS_MINUTES"])
    config["JWT_REFRESH_TOKEN_EXPIRES"] = timedelta(days=config["JWT_REFRESH_DAYS"])
    if config["SQLALCHEMY_DATABASE_URI"]:
        config["SQLALCHEMY_DATABASE_URI"] = database_url(config["SQLALCHEMY_DATABASE_URI"])
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **engine_options(config["SQLALCHEMY_DATABASE_URI"]),
            **config["SQLALCHEMY_ENGINE_OPTIONS"],
        }


def validate(config: dict) -> None:
    """Refuse, in one line, a configuration the app must not run with (after overrides and finalize)."""
    problems = []
    backend = config["SMS_BACKEND"]
    if backend is not None and backend not in SMS_BACKENDS:
        problems.append(f"SMS_BACKEND must be one of {', '.join(SMS_BACKENDS)}, not {backend!r}")
    if backend == "twilio":
        # Outside production too: every code would fail at Twilio while the person waits for it.
        missing = [name for name in TWILIO_SETTINGS if not config.get(name)]
        if missing:
            problems.append(f"SMS_BACKEND=twilio needs {names(missing)}")
    if config["MAIL_BACKEND"] not in (None, *MAIL_BACKENDS):
        problems.append(f"MAIL_BACKEND must be one of {', '.join(MAIL_BACKENDS)}, not {config['MAIL_BACKEND']!r}")
    if config["MAIL_BACKEND"] == "smtp" and (missing := [name for name in SMTP_SETTINGS if not config.get(name)]):
        problems.append(f"MAIL_BACKEND=smtp needs {names(missing)}")
    if config["LOG_FORMAT"] not in LOG_FORMATS:
        problems.append(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {config['LOG_FORMAT']!r}")
    try:
        networks("METRICS_ALLOWED_NETWORKS", ",".join(config["METRICS_ALLOWED_NETWORKS"]) or "none")
    except ConfigError as error:
        problems.append(str(error))
    if config["APP_ENV"] == "production" and (refused := production_problems(config)):
        problems.append(f"APP_ENV=production refuses to start: {'; '.join(refused)}")
    if problems:
        raise ConfigError("; ".join(problems))


def production_problems(config: dict) -> list[str]:
    """What production lacks: strong signing keys, real services, an SMS backend that keeps codes secret."""
    problems = []
    for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
        value = config.get(name) or b""
        size = len(value.encode() if isinstance(value, str) else value)
        if not size:
            problems.append(f"{name} is not set (it needs at least {MIN_SECRET_BYTES} bytes)")
        elif size < MIN_SECRET_BYTES:
            problems.append(f"{name} has {size} bytes (it needs at least {MIN_SECRET_BYTES})")
        elif weakness := guessable(value):
            problems.append(f"{name} {weakness} ({RANDOM_KEY_HINT})")
    for name, setting in (("DATABASE_URL", "SQLALCHEMY_DATABASE_URI"), ("REDIS_URL", "REDIS_URL")):
        if not config[setting]:
            problems.append(f"{name} is not set")
    backend = config["SMS_BACKEND"]
    if backend is None:
        problems.append("SMS_BACKEND is not set (production allows twilio only)")
    elif backend != "twilio":
        problems.append(f"SMS_BACKEND={backend} would let others read the codes (production allows twilio only)")
    if config["MAIL_BACKEND"] != "smtp":
        problems.append(f"MAIL_BACKEND={config['MAIL_BACKEND'] or 'unset'} would let others read the codes, "
                        "or send none (production allows smtp only)")
    if not config["RATELIMIT_ENABLED"]:
        problems.append("RATELIMIT_ENABLED=false turns off the limits on logins, signups and writes")
    problems.extend(metrics_problems(config))
    return problems


def metrics_problems(config: dict) -> list[str]:
    """/metrics must not be open to everyone, nor guarded by a guessable token."""
    problems = []
    try:
        allowed = networks("METRICS_ALLOWED_NETWORKS", ",".join(config["METRICS_ALLOWED_NETWORKS"]) or "none")
    except ConfigError:
        allowed = ()  # validate() reports the bad value itself
    everyone = [network for network in allowed if network.endswith("/0")]
    if everyone:
        problems.append(f"METRICS_ALLOWED_NETWORKS={names(everyone)} opens /metrics to every address "
                        "(name the scrapers' networks, or use METRICS_TOKEN)")
    public = [network for network in allowed if network not in everyone and not private_network(network)]
    if public:
        problems.append(f"METRICS_ALLOWED_NETWORKS={names(public)} reaches public addresses (production allows "
                        "loopback and private networks only: give a scraper elsewhere METRICS_TOKEN)")
    token = config.get("METRICS_TOKEN") or ""
    if token and len(token.encode()) < MIN_SECRET_BYTES:
        problems.append(f"METRICS_TOKEN has {len(token.encode())} bytes (it needs at least {MIN_SECRET_BYTES})")
    elif token and (weakness := guessable(token)):
        problems.append(f"METRICS_TOKEN {weakness} ({RANDOM_KEY_HINT})")
    return problems


def private_network(network: str) -> bool:
    """Whether every address of ``network`` is loopback or private (``is_private`` looks at its two ends only)."""
    parsed = ipaddress.ip_network(network)
    return any(parsed.version == space.version and parsed.subnet_of(space) for space in SCRAPER_NETWORKS)


def guessable(key: str | bytes) -> str | None:
    """What makes a long key guessable, said without the key: few distinct characters, a repeat, a run; or None."""
    text = key.decode("latin-1") if isinstance(key, bytes) else key
    distinct = len(set(text))
    if distinct < MIN_SECRET_DISTINCT:
        return f"has {distinct} distinct characters (it needs at least {MIN_SECRET_DISTINCT})"
    period = next((size for size in range(1, len(text) // 2 + 1) if text[size:] == text[:-size]), None)
    if period is not None:
        return f"repeats a pattern of {period} characters"
    steps = sum(abs(ord(a) - ord(b)) == 1 for a, b in zip(text, text[1:]))
    if steps * 2 > len(text) - 1:
        return "is mostly a run of neighbouring characters (abcd..., 1234...)"
    return None


def names(items: list[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def database_url(url: str) -> str:
    """Point plain ``postgresql://`` URLs at psycopg 3, the driver Agora installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def engine_options(url: str) -> dict:
    """Connection settings that keep a dead database from hanging a request, or a log from leaking data."""
    # Errors and logs never carry bound values: they include emails, password hashes and code digests.
    options = {"hide_parameters": True}
    if url.startswith("sqlite"):
        return {**options, "connect_args": {"timeout": 30, "check_same_thread": False}}
    if url.startswith("postgresql"):
        # No pool_pre_ping: app.core.database checks each checked-out connection without a round trip.
        return {**options, "connect_args": {"connect_timeout": 5}}
    return options


def enrichment_provider(environ: Mapping[str, str], config: dict) -> str | None:
    """The enrichment provider named, or the one the configured keys allow."""
    named = (environ.get("ENRICHMENT_PROVIDER") or "").strip().lower()
    if named:
        if named not in ("clearbit", "hunter"):
            raise ConfigError(f"ENRICHMENT_PROVIDER must be clearbit or hunter, not {named!r}")
        return named
    if config["CLEARBIT_API_KEY"]:
        return "clearbit"
    if config["HUNTER_API_KEY"]:
        return "hunter"
    return None


def signing_keys(environ: Mapping[str, str], app_env: str, instance_path: str) -> dict:
    """SECRET_KEY and JWT_SECRET_KEY: required in production (see validate), else generated once per instance."""
    given = {name: environ.get(name) or None for name in ("SECRET_KEY", "JWT_SECRET_KEY")}
    missing = [name for name, value in given.items() if not value]
    if not missing or app_env == "production":
        return given
    if app_env == "testing":
        return {name: value or secrets.token_urlsafe(32) for name, value in given.items()}
    kept = instance_secrets(Path(instance_path))
    return {name: value or kept[name] for name, value in given.items()}


def instance_secrets(instance: Path) -> dict:
    """Read, or atomically create, the per-instance signing keys (file mode 0600)."""
    path = instance / "secrets.json"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        keys = {name: secrets.token_urlsafe(48) for name in ("SECRET_KEY", "JWT_SECRET_KEY")}
        fd, tmp = tempfile.mkstemp(dir=instance, prefix=".secrets-")
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(keys, handle)
            try:
                os.link(tmp, path)  # fails if another process won the race: then read theirs
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return json.loads(path.read_text())


def positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number <= 0:
        raise ConfigError(f"{name} must be positive, not {number}")
    return number


def non_negative_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number < 0:
        raise ConfigError(f"{name} must be 0 or more, not {number}")
    return number


def networks(name: str, value: str) -> tuple[str, ...]:
    """Comma-separated addresses or CIDR networks (``127.0.0.1/32,10.0.0.0/8``), or ``none``; each as ``a.b.c.d/n``."""
    if value.strip().lower() == "none":
        return ()
    parsed = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            parsed.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigError(f"{name} must list addresses or networks like 10.0.0.0/8 (or be none), "
                              f"not {item!r}") from None
    return tuple(parsed)


def port(name: str, value: str) -> int:
    number = positive_int(name, value)
    if number > 65535:
        raise ConfigError(f"{name} must be a port number (1-65535), not {number}")
    return number


def positive_float(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}") from None
    if not number > 0:
        raise ConfigError(f"{name} must be positive, not {number}")
    return number


def choice(name: str, value: str, allowed: tuple) -> str:
    """``value`` as spelt in ``allowed``, whatever its case."""
    spelt = {option.lower(): option for option in allowed}.get(value.strip().lower())
    if spelt is None:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return spelt


def delay_range(name: str, value: str) -> tuple[float, float]:
    """``min-max`` seconds (or one number), e.g. ``1-2``."""
    low, _, high = value.strip().partition("-")
    try:
        bounds = (float(low), float(high or low))
    except ValueError:
        raise ConfigError(f"{name} must look like 1-2 (seconds), not {value!r}") from None
    if not 0 <= bounds[0] <= bounds[1]:
        raise ConfigError(f"{name} must be min-max with 0 <= min <= max, not {value!r}")
    return bounds


def boolean(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")
