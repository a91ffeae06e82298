"""What production refuses to start with (SPEC 5, 11), in one line from every entry point, and how it is deployed."""

import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import request

from app import create_app
from app.config import ConfigError, build_config, finalize, validate
from tests.servers import SERVER_TIMEOUT, gunicorn

ROOT = Path(__file__).resolve().parents[2]
OUTBOX = "/api/v1/dev/sms-outbox"
TWILIO = {"SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "twilio-token",
          "TWILIO_FROM": "+15005550006"}
STRONG_SECRET = "8hQ2vT_kX4mN9pLr7sW1yZ3bC6dF0gJe"  # 32 bytes, as secrets.token_urlsafe makes them
STRONG_JWT_SECRET = "Jw5tR8nY2qB7xK4mV9cH1zL6pD3sG0fA"
SMTP = {"MAIL_BACKEND": "smtp", "SMTP_HOST": "smtp.example.com", "SMTP_FROM": "agora@example.com"}
PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": STRONG_SECRET, "JWT_SECRET_KEY": STRONG_JWT_SECRET,
              "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/agora", "REDIS_URL": "redis://127.0.0.1:6379/0",
              **TWILIO, **SMTP}


def loaded(environ: dict, tmp_path) -> dict:
    """The settings create_app would run with for ``environ`` (no overrides)."""
    config = build_config(environ, str(tmp_path))
    finalize(config)
    validate(config)
    return config


def without(name: str) -> dict:
    return {key: value for key, value in PRODUCTION.items() if key != name}


def entry_point_env(home: Path, **variables) -> dict:
    """A clean environment for a subprocess: no variable of the caller's shell or of a .env file."""
    return {"PATH": os.environ["PATH"], "HOME": str(home), "PYTHON_DOTENV_DISABLED": "1", **variables}


def run_entry_point(command: list[str], env: dict, timeout: float = SERVER_TIMEOUT) -> subprocess.CompletedProcess:
    """Run ``command`` from the repository in a session of its own; whatever it leaves behind is killed."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def embedded_server_env(tmp_path: Path, **variables) -> dict:
    """The app on SQLite and fakeredis with in-memory keys, writing nothing outside ``tmp_path``."""
    return entry_point_env(tmp_path, APP_ENV="testing", DATABASE_URL=f"sqlite:///{tmp_path / 'agora.db'}",
                           LOG_LEVEL="WARNING", **variables)


# --- the settings production refuses ------------------------------------------------------------

def test_production_starts_with_strong_keys_real_services_and_twilio(tmp_path):
    config = loaded(PRODUCTION, tmp_path)
    assert (config["SECRET_KEY"], config["JWT_SECRET_KEY"]) == (STRONG_SECRET, STRONG_JWT_SECRET)
    assert config["SMS_BACKEND"] == "twilio"
    assert not (tmp_path / "secrets.json").exists()


@pytest.mark.parametrize("environ, message", [
    (without("SECRET_KEY"), "SECRET_KEY is not set (it needs at least 32 bytes)"),
    (without("JWT_SECRET_KEY"), "JWT_SECRET_KEY is not set (it needs at least 32 bytes)"),
    ({**PRODUCTION, "SECRET_KEY": "s" * 31}, "SECRET_KEY has 31 bytes (it needs at least 32)"),
    ({**PRODUCTION, "JWT_SECRET_KEY": "é" * 15}, "JWT_SECRET_KEY has 30 bytes (it needs at least 32)"),
    (without("DATABASE_URL"), "DATABASE_URL is not set"),
    (without("REDIS_URL"), "REDIS_URL is not set"),
    (without("SMS_BACKEND"), "SMS_BACKEND is not set (production allows twilio only)"),
    ({**PRODUCTION, "SMS_BACKEND": "outbox"}, "SMS_BACKEND=outbox would let others read the codes"),
    ({**PRODUCTION, "SMS_BACKEND": "console"}, "SMS_BACKEND=console would let others read the codes"),
    (without("TWILIO_ACCOUNT_SID"), "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID"),
    (without("TWILIO_AUTH_TOKEN"), "SMS_BACKEND=twilio needs TWILIO_AUTH_TOKEN"),
    (without("TWILIO_FROM"), "SMS_BACKEND=twilio needs TWILIO_FROM"),
    ({**PRODUCTION, "METRICS_ALLOWED_NETWORKS": "10.0.0.0/8,0.0.0.0/0"},
     "METRICS_ALLOWED_NETWORKS=0.0.0.0/0 opens /metrics to every address"),
    ({**PRODUCTION, "METRICS_ALLOWED_NETWORKS": "::/0", "METRICS_TOKEN": "t" * 32},
     "METRICS_ALLOWED_NETWORKS=::/0 opens /metrics to every address"),
    ({**PRODUCTION, "METRICS_TOKEN": "short"}, "METRICS_TOKEN has 5 bytes (it needs at least 32)"),
    ({**PRODUCTION, "METRICS_ALLOWED_NETWORKS": "0.0.0.0/1,128.0.0.0/1"},
     "METRICS_ALLOWED_NETWORKS=0.0.0.0/1 and 128.0.0.0/1 reaches public addresses"),
    ({**PRODUCTION, "METRICS_ALLOWED_NETWORKS": "10.0.0.0/8,203.0.113.7"},
     "METRICS_ALLOWED_NETWORKS=203.0.113.7/32 reaches public addresses"),
    ({**PRODUCTION, "METRICS_ALLOWED_NETWORKS": "::/1"}, "METRICS_ALLOWED_NETWORKS=::/1 reaches public addresses"),
    ({**PRODUCTION, "RATELIMIT_ENABLED": "false"},
     "RATELIMIT_ENABLED=false turns off the limits on logins, signups and writes"),
    ({**PRODUCTION, "SECRET_KEY": "a" * 32}, "SECRET_KEY has 1 distinct characters (it needs at least 6)"),
    ({**PRODUCTION, "JWT_SECRET_KEY": "é" * 16}, "JWT_SECRET_KEY has 1 distinct characters"),
    ({**PRODUCTION, "JWT_SECRET_KEY": "password1" * 4}, "JWT_SECRET_KEY repeats a pattern of 9 characters"),
    ({**PRODUCTION, "SECRET_KEY": "abcdefghijklmnopqrstuvwxyz012345"},
     "SECRET_KEY is mostly a run of neighbouring characters"),
    ({**PRODUCTION, "METRICS_TOKEN": "t0" * 16}, "METRICS_TOKEN has 2 distinct characters"),
])
def test_production_refuses_to_start_naming_the_setting(tmp_path, environ, message):
    with pytest.raises(ConfigError) as refused:
        loaded(environ, tmp_path)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_production_accepts_named_scraper_networks_and_a_strong_metrics_token(tmp_path):
    config = loaded({**PRODUCTION, "METRICS_ALLOWED_NETWORKS": "10.0.0.0/8", "METRICS_TOKEN": STRONG_SECRET}, tmp_path)
    assert (config["METRICS_ALLOWED_NETWORKS"], config["METRICS_TOKEN"]) == (("10.0.0.0/8",), STRONG_SECRET)


def test_production_lets_loopback_and_private_networks_read_metrics(tmp_path):
    private = "127.0.0.1,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fd00::/8"
    assert len(loaded({**PRODUCTION, "METRICS_ALLOWED_NETWORKS": private}, tmp_path)["METRICS_ALLOWED_NETWORKS"]) == 7


def test_limits_off_and_repeated_keys_are_allowed_outside_production(tmp_path):
    config = loaded({"APP_ENV": "development", "RATELIMIT_ENABLED": "false", "SECRET_KEY": "a" * 32}, tmp_path)
    assert (config["RATELIMIT_ENABLED"], config["SECRET_KEY"]) == (False, "a" * 32)


def test_metrics_open_to_everyone_are_allowed_outside_production(tmp_path):
    environ = {"APP_ENV": "development", "METRICS_ALLOWED_NETWORKS": "0.0.0.0/0", "METRICS_TOKEN": "short"}
    assert loaded(environ, tmp_path)["METRICS_ALLOWED_NETWORKS"] == ("0.0.0.0/0",)


def test_signing_keys_are_measured_in_bytes(tmp_path):
    config = loaded({**PRODUCTION, "SECRET_KEY": "éèêëàâäîïôöùûüçñ"}, tmp_path)
    assert config["SECRET_KEY"] == "éèêëàâäîïôöùûüçñ"


def test_a_refused_key_is_never_repeated_in_the_message(tmp_path):
    with pytest.raises(ConfigError) as refused:
        loaded({**PRODUCTION, "SECRET_KEY": "hunter2!" * 4}, tmp_path)
    assert "SECRET_KEY repeats a pattern of 8 characters" in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_a_refusal_names_every_problem_on_one_line_without_the_secrets(tmp_path):
    with pytest.raises(ConfigError) as refused:
        loaded({"APP_ENV": "production", "SECRET_KEY": "hunter2", "SMS_BACKEND": "outbox"}, tmp_path)
    message = str(refused.value)
    assert message.startswith("APP_ENV=production refuses to start: ")
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SMS_BACKEND=outbox"):
        assert name in message
    assert "\n" not in message
    assert "hunter2" not in message


def production_overrides(tmp_path, **overrides) -> dict:
    return {"SECRET_KEY": STRONG_SECRET, "JWT_SECRET_KEY": STRONG_JWT_SECRET, "REDIS_URL": "redis://127.0.0.1:1/0",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'agora.db'}", **TWILIO, **SMTP, **overrides}


def test_a_production_app_can_be_built_from_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    app = create_app(production_overrides(tmp_path), instance_path=str(tmp_path / "instance"))
    assert app.config["APP_ENV"] == "production"
    assert OUTBOX not in {rule.rule for rule in app.url_map.iter_rules()}


def test_the_bots_own_server_is_refused_in_production(tmp_path, monkeypatch):
    """It would serve with the limits off (SPEC 11), which production refuses: drive a server with --base-url."""
    monkeypatch.setenv("APP_ENV", "production")
    app = create_app(production_overrides(tmp_path), instance_path=str(tmp_path / "instance"))
    result = app.test_cli_runner().invoke(args=["run-bot", "--quiet"])
    assert result.exit_code == 1
    assert "RATELIMIT_ENABLED=false turns off the limits" in result.output and "--base-url" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("override, message", [
    ({"RATELIMIT_ENABLED": False}, "RATELIMIT_ENABLED=false"),
    ({"SMS_BACKEND": "outbox"}, "SMS_BACKEND=outbox"),
    ({"JWT_SECRET_KEY": "short"}, "JWT_SECRET_KEY has 5 bytes"),
    ({"REDIS_URL": None}, "REDIS_URL is not set"),
    ({"TWILIO_FROM": None}, "SMS_BACKEND=twilio needs TWILIO_FROM"),
])
def test_overrides_are_validated_like_the_environment(tmp_path, monkeypatch, override, message):
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError, match=re.escape(message)):
        create_app(production_overrides(tmp_path, **override), instance_path=str(tmp_path / "instance"))


# --- the development outbox exists only while it is the backend ---------------------------------

@pytest.mark.parametrize("backend", ["console", "twilio"])
def test_the_outbox_route_and_operation_exist_only_under_the_outbox_backend(make_app, backend):
    app = make_app(**{**TWILIO, "SMS_BACKEND": backend})
    client = app.test_client()
    response = client.get(OUTBOX, query_string={"phone": "+79991234567"})
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert "outbox" not in response.json["error"]["message"].lower()  # the generic 404: nothing hints at it
    assert OUTBOX not in client.get("/openapi.json").json["paths"]


def test_the_outbox_backend_serves_the_outbox_and_documents_it(make_app):
    client = make_app(SMS_BACKEND="outbox").test_client()
    assert client.get(OUTBOX, query_string={"phone": "+79991234567"}).json == {"items": []}
    assert "get" in client.get("/openapi.json").json["paths"][OUTBOX]


# --- one line, no traceback, from every entry point ----------------------------------------------

@pytest.mark.parametrize("variables, named", [
    ({"APP_ENV": "production", **{k: v for k, v in PRODUCTION.items() if k != "APP_ENV"}, "SMS_BACKEND": "outbox"},
     "SMS_BACKEND=outbox"),
    (without("SMS_BACKEND"), "SMS_BACKEND is not set"),
    ({"APP_ENV": "development", "LOG_LEVEL": "loud"}, "LOG_LEVEL"),
])
def test_flask_commands_stop_with_one_line_on_a_configuration_error(tmp_path, variables, named):
    result = run_entry_point([sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
                             entry_point_env(tmp_path, **variables))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("Agora configuration error: ") and named in result.stderr
    assert OUTBOX not in result.stdout


def test_gunicorn_stops_once_with_one_line_on_a_configuration_error(tmp_path):
    env = entry_point_env(tmp_path, **{**PRODUCTION, "SMS_BACKEND": "outbox"}, BIND="127.0.0.1:0")
    result = run_entry_point([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"], env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    assert "Booting worker" not in output  # the master refused: no worker was started to fail
    lines = [line for line in output.splitlines() if "configuration error" in line]
    assert lines == ["Agora configuration error: APP_ENV=production refuses to start: "
                     "SMS_BACKEND=outbox would let others read the codes (production allows twilio only)"]


def test_gunicorn_stops_with_one_line_on_a_bad_thread_count(tmp_path):
    env = embedded_server_env(tmp_path, GUNICORN_THREADS="many", BIND="127.0.0.1:0")
    result = run_entry_point([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"], env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == ("Agora configuration error: "
                                     "GUNICORN_THREADS must be a positive whole number, not 'many'")


def served_shape(env: dict) -> dict:
    """gunicorn's workers, threads and worker class for ``env``, as gunicorn.conf.py sets them (--print-config)."""
    result = run_entry_point([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--print-config",
                              "wsgi:app"], env)
    assert result.returncode == 0, result.stderr
    settings = dict(re.findall(r"^(workers|threads|worker_class)\s+= (\S+)$", result.stdout, re.M))
    return {"workers": int(settings["workers"]), "threads": int(settings["threads"]),
            "worker_class": settings["worker_class"]}


@pytest.mark.parametrize("variables, expected", [
    # Redis shared by processes: 2 x cores + 1 single-threaded (sync) processes
    ({"REDIS_URL": "redis://127.0.0.1:6379/0"},
     {"workers": 2 * (os.cpu_count() or 1) + 1, "threads": 1, "worker_class": "app.core.serving.JsonErrorSyncWorker"}),
    # the embedded default: fakeredis lives in one process, so one process of 32 threads (its streams hold some)
    ({}, {"workers": 1, "threads": 32, "worker_class": "app.core.serving.JsonErrorThreadWorker"}),
    # threads asked for with Redis: the threaded worker, since a sync one would ignore them
    ({"REDIS_URL": "redis://127.0.0.1:6379/0", "WEB_CONCURRENCY": "3", "GUNICORN_THREADS": "4"},
     {"workers": 3, "threads": 4, "worker_class": "app.core.serving.JsonErrorThreadWorker"}),
])
def test_gunicorn_runs_the_process_shape_chosen_for_its_mode(tmp_path, variables, expected):
    assert served_shape(embedded_server_env(tmp_path, BIND="127.0.0.1:0", **variables)) == expected


# --- gunicorn's control socket ----------------------------------------------------------------

def test_gunicorn_opens_no_shared_control_socket(tmp_path):
    default_socket = tmp_path / ".gunicorn" / "gunicorn.ctl"
    with gunicorn(embedded_server_env(tmp_path), tmp_path / "gunicorn.log"):
        assert not default_socket.exists()
        assert "control socket" not in (tmp_path / "gunicorn.log").read_text().lower()


def test_gunicorn_control_socket_has_the_path_given(tmp_path):
    own = tmp_path / "agora.ctl"
    with gunicorn(embedded_server_env(tmp_path, GUNICORN_CONTROL_SOCKET=str(own)), tmp_path / "gunicorn.log"):
        deadline = time.monotonic() + 10
        while not own.exists() and time.monotonic() < deadline:  # opened just after the first worker
            time.sleep(0.05)
        assert stat.S_ISSOCK(own.stat().st_mode)
        assert not (tmp_path / ".gunicorn").exists()


# --- behind a reverse proxy ----------------------------------------------------------------------

def client_address_app(make_app, **overrides):
    app = make_app(**overrides)
    app.add_url_rule("/test/whoami", "whoami", lambda: {"address": request.remote_addr, "scheme": request.scheme,
                                                         "host": request.host})
    return app.test_client()


FORWARDED = {"X-Forwarded-For": "203.0.113.7, 198.51.100.20", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "evil.example"}


def test_without_trusted_proxies_forwarded_headers_are_ignored(make_app):
    client = client_address_app(make_app)
    seen = client.get("/test/whoami", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.2"}).json
    assert seen == {"address": "10.0.0.2", "scheme": "http", "host": "localhost"}


def test_one_trusted_proxy_gives_the_address_it_saw(make_app):
    client = client_address_app(make_app, TRUSTED_PROXIES=1)
    seen = client.get("/test/whoami", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.2"}).json
    # The proxy appended the address it saw; the first one came from the client and proves nothing.
    assert seen == {"address": "198.51.100.20", "scheme": "https", "host": "localhost"}


def test_two_trusted_proxies_give_the_address_the_outer_one_saw(make_app):
    client = client_address_app(make_app, TRUSTED_PROXIES=2)
    seen = client.get("/test/whoami", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.2"}).json
    assert seen["address"] == "203.0.113.7"
