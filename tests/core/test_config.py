"""Configuration from the environment (SPEC 11); what production refuses is in test_production.py."""

import json
import stat

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app import create_app
from app.config import ConfigError, build_config, database_url, engine_options, finalize, validate
from app.extensions import db
from tasks.celery_app import CeleryQueue


def loaded(environ: dict, tmp_path) -> dict:
    """The settings create_app would run with for ``environ`` (no overrides)."""
    config = build_config(environ, str(tmp_path))
    finalize(config)
    validate(config)
    return config


def test_development_generates_keys_once_per_instance(tmp_path):
    first = build_config({"APP_ENV": "development"}, str(tmp_path))
    second = build_config({"APP_ENV": "development"}, str(tmp_path))
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["JWT_SECRET_KEY"] != first["SECRET_KEY"]
    kept = tmp_path / "secrets.json"
    assert json.loads(kept.read_text())["JWT_SECRET_KEY"] == first["JWT_SECRET_KEY"]
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_unknown_app_env_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="APP_ENV"):
        build_config({"APP_ENV": "staging"}, str(tmp_path))


def test_embedded_default_is_sqlite_under_instance_and_fakeredis(tmp_path):
    config = build_config({"APP_ENV": "development"}, str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'agora.db'}"
    assert config["REDIS_URL"] is None
    assert config["CELERY_BROKER_URL"] is None


def test_broker_defaults_to_redis_url(tmp_path):
    config = build_config({"REDIS_URL": "redis://127.0.0.1:6379/3"}, str(tmp_path))
    finalize(config)
    assert config["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/3"


def test_broker_follows_a_redis_url_given_as_an_override(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.db'}",
                      "REDIS_URL": "redis://127.0.0.1:6379/4"}, instance_path=str(tmp_path))
    assert app.config["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/4"
    assert isinstance(app.extensions["tasks"], CeleryQueue)


def test_an_explicit_broker_wins_over_redis_url(tmp_path):
    config = build_config({"REDIS_URL": "redis://127.0.0.1:6379/3", "CELERY_BROKER_URL": "amqp://guest@127.0.0.1//"},
                          str(tmp_path))
    finalize(config)
    assert config["CELERY_BROKER_URL"] == "amqp://guest@127.0.0.1//"


@pytest.mark.parametrize("given, used", [
    ("postgresql://postgres@127.0.0.1/agora", "postgresql+psycopg://postgres@127.0.0.1/agora"),
    ("postgres://postgres@127.0.0.1/agora", "postgresql+psycopg://postgres@127.0.0.1/agora"),
    ("postgresql+psycopg://postgres@127.0.0.1/agora", "postgresql+psycopg://postgres@127.0.0.1/agora"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_database_urls_use_the_installed_driver(given, used):
    assert database_url(given) == used


@pytest.mark.parametrize("environ, provider", [
    ({}, None),
    ({"HUNTER_API_KEY": "h"}, "hunter"),
    ({"CLEARBIT_API_KEY": "c"}, "clearbit"),
    ({"CLEARBIT_API_KEY": "c", "HUNTER_API_KEY": "h"}, "clearbit"),
    ({"CLEARBIT_API_KEY": "c", "HUNTER_API_KEY": "h", "ENRICHMENT_PROVIDER": "hunter"}, "hunter"),
])
def test_enrichment_provider_follows_the_keys(tmp_path, environ, provider):
    assert build_config({"APP_ENV": "testing", **environ}, str(tmp_path))["ENRICHMENT_PROVIDER"] == provider


@pytest.mark.parametrize("environ, message", [
    ({"ENRICHMENT_PROVIDER": "acme"}, "ENRICHMENT_PROVIDER"),
    ({"JWT_ACCESS_MINUTES": "soon"}, "JWT_ACCESS_MINUTES"),
    ({"JWT_REFRESH_DAYS": "0"}, "JWT_REFRESH_DAYS"),
    ({"RATELIMIT_ENABLED": "maybe"}, "RATELIMIT_ENABLED"),
])
def test_bad_values_are_refused_with_their_name(tmp_path, environ, message):
    with pytest.raises(ConfigError, match=message):
        build_config({"APP_ENV": "testing", **environ}, str(tmp_path))


def test_token_lifetimes_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("JWT_ACCESS_MINUTES", "5")
    monkeypatch.setenv("JWT_REFRESH_DAYS", "2")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.db'}"}, instance_path=str(tmp_path))
    assert app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds() == 300
    assert app.config["JWT_REFRESH_TOKEN_EXPIRES"].days == 2


def test_apps_do_not_share_state(tmp_path):
    first = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.db'}"}, instance_path=str(tmp_path / "a"))
    second = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'b.db'}"}, instance_path=str(tmp_path / "b"))
    assert first.extensions["redis"] is not second.extensions["redis"]
    with first.app_context():
        first.extensions["redis"].set("k", "1")
    with second.app_context():
        assert second.extensions["redis"].get("k") is None


@pytest.mark.parametrize("given, delay", [("1-2", (1.0, 2.0)), ("0", (0.0, 0.0)), ("0.5-0.5", (0.5, 0.5))])
def test_the_sms_delay_is_a_min_max_range(tmp_path, given, delay):
    assert build_config({"APP_ENV": "testing", "SMS_DELAY_SECONDS": given}, str(tmp_path))["SMS_DELAY_SECONDS"] == delay


@pytest.mark.parametrize("environ, message", [
    ({"SMS_DELAY_SECONDS": "2-1"}, "SMS_DELAY_SECONDS"),
    ({"SMS_DELAY_SECONDS": "soon"}, "SMS_DELAY_SECONDS"),
    ({"SMS_BACKEND": "pigeon"}, "SMS_BACKEND"),
    ({"PHONE_CODE_TTL_SECONDS": "-5"}, "PHONE_CODE_TTL_SECONDS"),
])
def test_bad_sms_and_phone_settings_are_refused(tmp_path, environ, message):
    with pytest.raises(ConfigError, match=message):
        build_config({"APP_ENV": "testing", **environ}, str(tmp_path))


def test_phone_and_sms_settings_come_from_their_names(tmp_path):
    config = build_config({"APP_ENV": "testing", "SMS_BACKEND": "Twilio", "PHONE_DEFAULT_REGION": "ru",
                           "PHONE_CODE_TTL_SECONDS": "120", "PHONE_CODE_RESEND_SECONDS": "30",
                           "PHONE_CODE_MAX_ATTEMPTS": "3", "PHONE_CODES_PER_HOUR": "4",
                           "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": "+15005550006",
                           "TWILIO_BASE_URL": "http://127.0.0.1:9/", "RATELIMIT_ENABLED": "false"}, str(tmp_path))
    assert config["SMS_BACKEND"] == "twilio" and config["PHONE_DEFAULT_REGION"] == "RU"
    assert (config["PHONE_CODE_TTL_SECONDS"], config["PHONE_CODE_RESEND_SECONDS"], config["PHONE_CODE_MAX_ATTEMPTS"],
            config["PHONE_CODES_PER_HOUR"]) == (120, 30, 3, 4)
    assert config["TWILIO_BASE_URL"] == "http://127.0.0.1:9"
    assert config["RATELIMIT_ENABLED"] is False


def test_log_level_is_info_by_default_and_read_in_any_case(tmp_path):
    assert build_config({"APP_ENV": "testing"}, str(tmp_path))["LOG_LEVEL"] == "INFO"
    assert build_config({"APP_ENV": "testing", "LOG_LEVEL": "warning"}, str(tmp_path))["LOG_LEVEL"] == "WARNING"


def test_the_app_logs_at_the_configured_level_and_format(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr("app.core.logs.configure_logging", lambda *args: calls.append(args))
    monkeypatch.setenv("LOG_LEVEL", "error")
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.db'}"}, instance_path=str(tmp_path))
    assert calls == [("ERROR", "json")]


@pytest.mark.parametrize("overrides, message", [
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be one of text, json, not 'xml'"),
    ({"METRICS_ALLOWED_NETWORKS": ("10.0.0.0/33",)}, "METRICS_ALLOWED_NETWORKS must list addresses or networks"),
])
def test_bad_overrides_of_the_observability_settings_are_one_line(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message) as refused:
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.db'}", **overrides},
                   instance_path=str(tmp_path))
    assert "\n" not in str(refused.value)


def test_log_format_is_text_by_default(tmp_path):
    assert build_config({"APP_ENV": "testing"}, str(tmp_path))["LOG_FORMAT"] == "text"


def test_metrics_settings_default_to_loopback_without_a_token(tmp_path):
    config = build_config({"APP_ENV": "testing"}, str(tmp_path))
    assert config["METRICS_ALLOWED_NETWORKS"] == ("127.0.0.1/32", "::1/128")
    assert (config["METRICS_TOKEN"], config["WORKER_METRICS_PORT"], config["WORKER_METRICS_ADDRESS"]) == (
        None, None, "127.0.0.1")


def test_metrics_settings_are_read_from_their_names(tmp_path):
    config = build_config({"APP_ENV": "testing", "METRICS_ALLOWED_NETWORKS": " 10.1.2.3, 10.0.0.0/8 ,fd00::/8",
                           "METRICS_TOKEN": "t" * 40, "WORKER_METRICS_PORT": "9808",
                           "WORKER_METRICS_ADDRESS": "0.0.0.0"}, str(tmp_path))
    assert config["METRICS_ALLOWED_NETWORKS"] == ("10.1.2.3/32", "10.0.0.0/8", "fd00::/8")
    assert (config["METRICS_TOKEN"], config["WORKER_METRICS_PORT"], config["WORKER_METRICS_ADDRESS"]) == (
        "t" * 40, 9808, "0.0.0.0")
    assert build_config({"APP_ENV": "testing", "METRICS_ALLOWED_NETWORKS": "none"},
                        str(tmp_path))["METRICS_ALLOWED_NETWORKS"] == ()


def test_trusted_proxies_is_zero_unless_given(tmp_path):
    assert build_config({"APP_ENV": "testing"}, str(tmp_path))["TRUSTED_PROXIES"] == 0
    assert build_config({"APP_ENV": "testing", "TRUSTED_PROXIES": "2"}, str(tmp_path))["TRUSTED_PROXIES"] == 2
    assert build_config({"APP_ENV": "testing", "TRUSTED_PROXIES": "0"}, str(tmp_path))["TRUSTED_PROXIES"] == 0


LOGIN_LIMITS = {"LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS": 10, "LOGIN_FAILURES_PER_ACCOUNT": 100,
                "LOGIN_FAILURES_PER_ADDRESS": 100, "LOGIN_FAILURE_WINDOW_SECONDS": 900,
                "LOGIN_ACCOUNT_WINDOW_SECONDS": 86400}


def test_login_limits_have_their_defaults(tmp_path):
    config = build_config({"APP_ENV": "testing"}, str(tmp_path))
    assert {name: config[name] for name in LOGIN_LIMITS} == LOGIN_LIMITS


def test_login_limits_come_from_their_names(tmp_path):
    environ = {name: str(number) for number, name in enumerate(LOGIN_LIMITS, start=3)}
    config = build_config({"APP_ENV": "testing", **environ}, str(tmp_path))
    assert {name: str(config[name]) for name in LOGIN_LIMITS} == environ


@pytest.mark.parametrize("environ, message", [
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be one of text, json, not 'xml'"),
    ({"METRICS_ALLOWED_NETWORKS": "127.0.0.1,everyone"}, "METRICS_ALLOWED_NETWORKS must list addresses or networks"),
    ({"WORKER_METRICS_PORT": "70000"}, "WORKER_METRICS_PORT must be a port number"),
    ({"WORKER_METRICS_PORT": "http"}, "WORKER_METRICS_PORT must be a whole number"),
    ({"TRUSTED_PROXIES": "-1"}, "TRUSTED_PROXIES"),
    ({"TRUSTED_PROXIES": "one"}, "TRUSTED_PROXIES"),
    *[({name: "0"}, name) for name in LOGIN_LIMITS],
    ({"LOGIN_FAILURE_WINDOW_SECONDS": "15m"}, "LOGIN_FAILURE_WINDOW_SECONDS"),
])
def test_bad_operational_settings_are_refused_with_their_name(tmp_path, environ, message):
    with pytest.raises(ConfigError, match=message):
        build_config({"APP_ENV": "testing", **environ}, str(tmp_path))


@pytest.mark.parametrize("missing", ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM"])
def test_twilio_without_its_settings_is_refused_outside_production_too(tmp_path, missing):
    environ = {"APP_ENV": "development", "SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC1",
               "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": "+15005550006"}
    del environ[missing]
    with pytest.raises(ConfigError, match=f"SMS_BACKEND=twilio needs {missing}$"):
        loaded(environ, tmp_path)


def test_the_default_sms_backend_outside_production_is_console(tmp_path):
    assert loaded({"APP_ENV": "development"}, tmp_path)["SMS_BACKEND"] == "console"


@pytest.mark.parametrize("url", ["sqlite:////tmp/x.db", "postgresql+psycopg://postgres@127.0.0.1/agora"])
def test_the_engine_never_shows_bound_parameters(url):
    assert engine_options(url)["hide_parameters"] is True


def test_a_database_error_does_not_carry_the_values_it_was_given(app):
    with app.app_context():
        with pytest.raises(OperationalError) as raised:
            db.session.execute(text("SELECT * FROM no_such_table WHERE email = :email"),
                               {"email": "secret.person@example.com"})
        db.session.rollback()
    assert "no_such_table" in str(raised.value)
    assert "secret.person@example.com" not in str(raised.value)
    assert "hidden due to hide_parameters" in str(raised.value)


def test_every_refused_value_is_named_on_one_line(tmp_path):
    with pytest.raises(ConfigError) as refused:
        build_config({"APP_ENV": "testing", "JWT_ACCESS_MINUTES": "soon", "SMTP_PORT": "70000"}, str(tmp_path))
    assert str(refused.value) == ("JWT_ACCESS_MINUTES must be a whole number, not 'soon'; "
                                  "SMTP_PORT must be a port number (1-65535), not 70000")


def test_an_empty_variable_is_unset(tmp_path):
    config = build_config({"APP_ENV": "testing", "JWT_ACCESS_MINUTES": "", "SMS_BACKEND": ""}, str(tmp_path))
    assert (config["JWT_ACCESS_MINUTES"], config["SMS_BACKEND"]) == (15, "console")


@pytest.mark.parametrize("app_env, cost", [("development", (2, 19456)), ("testing", (1, 1024))])
def test_the_password_hash_cost_is_lower_under_testing(tmp_path, app_env, cost):
    config = build_config({"APP_ENV": app_env}, str(tmp_path))
    assert (config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_KIB"]) == cost
