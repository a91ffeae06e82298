"""Configuration: the settings declared in app.core.settings, read from the environment, over Agora's constants;
and the rules the app refuses to run without."""

import copy
import ipaddress
import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

from marshmallow import ValidationError

from app.core.settings import SETTINGS, networks, read, refusal

SMS_BACKENDS = SETTINGS["SMS_BACKEND"].kind.choices
TWILIO_SETTINGS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM")
SMTP_SETTINGS = ("SMTP_HOST", "SMTP_FROM")
# Overrides (create_app's config, the tests') skip the environment's reading: these are read again as text.
CHECKED_OVERRIDES = ("SMS_BACKEND", "MAIL_BACKEND", "LOG_FORMAT", "METRICS_ALLOWED_NETWORKS")
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


class Constants:
    """The Flask and extension settings that no environment variable changes."""

    TESTING = False  # True under APP_ENV=testing
    # A generous cap: the largest valid request (a 10,000-character post, JSON-escaped) fits well inside.
    MAX_CONTENT_LENGTH = 256 * 1024
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    JWT_TOKEN_LOCATION = ["headers"]
    JWT_ALGORITHM = "HS256"
    SMS_OUTBOX_SIZE = 20
    MAIL_OUTBOX_SIZE = 20
    # Whether this process serves GET /api/v1/events: the embedded default's one process does; with a Redis
    # server the API's workers do not (streams would hold them) and the streaming processes do (app.events.wsgi).
    EVENTS_SERVED_HERE = None

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


def build_config(environ: Mapping[str, str], instance_path: str) -> dict:
    """Return the settings for the APP_ENV named in ``environ``: its variables over their defaults, and the constants."""
    try:
        settings = read(environ)
    except ValidationError as error:
        raise ConfigError("; ".join(f"{name} {message}" for name, messages in error.messages.items()
                                    for message in messages)) from None
    app_env = settings["APP_ENV"]
    constants = {key: copy.deepcopy(getattr(Constants, key)) for key in dir(Constants) if key.isupper()}
    config = {**constants, "TESTING": app_env == "testing", **settings}
    # Production has no fallback database: validate() refuses to start without DATABASE_URL.
    if not config["SQLALCHEMY_DATABASE_URI"] and app_env != "production":
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(instance_path) / 'agora.db'}"
    config["ENRICHMENT_PROVIDER"] = config["ENRICHMENT_PROVIDER"] or keyed_enrichment_provider(config)
    config.update(signing_keys(config, instance_path))
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
    problems = [problem for name in CHECKED_OVERRIDES
                if config[name] is not None and (problem := refusal(name, config[name]))]
    if config["SMS_BACKEND"] == "twilio" and (missing := [name for name in TWILIO_SETTINGS if not config.get(name)]):
        # Outside production too: every code would fail at Twilio while the person waits for it.
        problems.append(f"SMS_BACKEND=twilio needs {names(missing)}")
    if config["MAIL_BACKEND"] == "smtp" and (missing := [name for name in SMTP_SETTINGS if not config.get(name)]):
        problems.append(f"MAIL_BACKEND=smtp needs {names(missing)}")
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
        allowed = networks(",".join(config["METRICS_ALLOWED_NETWORKS"]) or "none")
    except ValueError:
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


def keyed_enrichment_provider(config: dict) -> str | None:
    """The enrichment provider the configured keys allow, when none is named: Clearbit's first."""
    if config["CLEARBIT_API_KEY"]:
        return "clearbit"
    if config["HUNTER_API_KEY"]:
        return "hunter"
    return None


def signing_keys(config: dict, instance_path: str) -> dict:
    """SECRET_KEY and JWT_SECRET_KEY: required in production (see validate), else generated once per instance."""
    given = {name: config[name] for name in ("SECRET_KEY", "JWT_SECRET_KEY")}
    missing = [name for name, value in given.items() if not value]
    if not missing or config["APP_ENV"] == "production":
        return given
    if config["APP_ENV"] == "testing":
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
