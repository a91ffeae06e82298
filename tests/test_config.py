"""Configuration from the environment (SPEC 11)."""

import json
import stat

import pytest

from app import create_app
from app.config import ConfigError, build_config, database_url, finalize


def test_production_refuses_to_start_without_signing_keys(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY and JWT_SECRET_KEY"):
        build_config({"APP_ENV": "production"}, str(tmp_path))


def test_production_uses_the_keys_it_is_given(tmp_path):
    config = build_config({"APP_ENV": "production", "SECRET_KEY": "s", "JWT_SECRET_KEY": "j"}, str(tmp_path))
    assert (config["SECRET_KEY"], config["JWT_SECRET_KEY"]) == ("s", "j")
    assert not (tmp_path / "secrets.json").exists()


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
    assert app.extensions["inline_tasks"] is None


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
