"""Agora: the application factory."""

import os
from collections.abc import Mapping
from functools import partial

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import ConfigError, build_config, finalize, validate
from app.core.api import Api
from app.core.application import Agora
from app.core.errors import register_error_handlers
from app.core.observability import register_request_observability
from app.core.parsing import register_body_rules
from app.core.security_headers import register_security_headers
from app.extensions import db, jwt, migrate, redis_store


def create_app(config: Mapping | None = None, *, instance_path: str | None = None) -> Flask:
    """Build the app from the environment, then ``config`` (tests pass overrides here)."""
    app = Agora(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.update(build_config(os.environ, app.instance_path))
    app.config.update(config or {})
    finalize(app.config)
    validate(app.config)
    os.makedirs(app.instance_path, exist_ok=True)

    register_logging(app)
    register_request_observability(app)  # first: its before_request runs even when a later one answers early
    register_proxies(app)
    api = register_extensions(app)
    register_error_handlers(app)
    register_body_rules(app)
    register_security_headers(app)
    register_blueprints(app, api)
    register_commands(app, dict(config or {}))
    return app


def create_app_or_exit(config: Mapping | None = None) -> Flask:
    """The app for an entry point (wsgi.py, app/events/wsgi.py), with ``config`` over the environment: a
    configuration error exits with its one line (status 1)."""
    try:
        return create_app(config)
    except ConfigError as error:
        raise SystemExit(f"Agora configuration error: {error}") from None


def register_logging(app: Flask) -> None:
    """LOG_LEVEL and LOG_FORMAT on the root logger, the request id on every line, secrets blanked in URLs."""
    from app.core.logs import configure_logging
    from app.integrations.http import install_log_redaction

    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    install_log_redaction()


def register_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES hops, take the client's address and scheme from their X-Forwarded-* headers.

    X-Forwarded-Host is not believed: a proxy that does not overwrite it would let clients pick the host.
    """
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def register_extensions(app: Flask) -> Api:
    from app.auth.tokens import register_jwt_callbacks, register_token_docs
    from app.core.database import register_database
    from app.core.routing import IdConverter, id_parameter_schema
    from tasks.install import install as install_tasks

    app.url_map.converters["id"] = IdConverter
    db.init_app(app)
    register_database(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    jwt.init_app(app)
    register_jwt_callbacks()
    redis_store.init_app(app)
    api = Api(app)  # one per app: flask-smorest keeps the app and its spec on the instance
    api.register_converter(IdConverter, id_parameter_schema)
    register_token_docs(api)
    install_tasks(app)
    return api


def register_blueprints(app: Flask, api: Api) -> None:
    from app.core import docs
    from app.auth.routes import blp as auth_blp
    from app.chat.routes import blp as chat_blp
    from app.events.routes import blp as events_blp
    from app.events.routes import register_event_schemas
    from app.mail.routes import blp as email_blp
    from app.mail.routes import outbox_blp as mail_outbox_blp
    from app.ops.metrics_endpoint import register_metrics
    from app.ops.routes import blp as ops_blp
    from app.posts.routes import blp as posts_blp
    from app.phone.routes import blp as phone_blp
    from app.phone.routes import outbox_blp
    from app.ui.routes import blp as ui_blp
    from app.users.routes import blp as users_blp

    for blueprint in (auth_blp, email_blp, phone_blp, users_blp, posts_blp, chat_blp, events_blp, ops_blp):
        api.register_blueprint(blueprint)
    register_event_schemas(api)
    if app.config["SMS_BACKEND"] == "outbox":  # otherwise the route and its OpenAPI operation do not exist (SPEC 5)
        api.register_blueprint(outbox_blp)
    if app.config["MAIL_BACKEND"] == "outbox":  # the same for the mail outbox (SPEC 4)
        api.register_blueprint(mail_outbox_blp)
    app.register_blueprint(docs.blp)
    app.register_blueprint(ui_blp)
    register_metrics(app)  # GET /metrics: a plain blueprint, outside the OpenAPI document


def register_commands(app: Flask, overrides: dict) -> None:
    from app.core.bot_server import bot_server_app
    from app.profile_checks.commands import enrichment, profile_checks
    from bot.cli import run_bot_command

    app.cli.add_command(profile_checks)
    app.cli.add_command(enrichment)  # the name the README used to give `profile-checks`
    build = partial(create_app, instance_path=app.instance_path)
    app.cli.add_command(run_bot_command(lambda: bot_server_app(app, build, overrides)))
