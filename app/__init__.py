"""Agora: the application factory."""

import logging
import os
from collections.abc import Mapping

from flask import Flask, request

from app.config import build_config, finalize
from app.errors import error_response, register_error_handlers
from app.api import Api
from app.extensions import db, jwt, migrate, redis_store

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def create_app(config: Mapping | None = None, *, instance_path: str | None = None) -> Flask:
    """Build the app from the environment, then ``config`` (tests pass overrides here)."""
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.update(build_config(os.environ, app.instance_path))
    app.config.update(config or {})
    finalize(app.config)
    app.json.sort_keys = False  # keep fields in the order the schemas declare them
    os.makedirs(app.instance_path, exist_ok=True)

    register_logging(app)
    api = register_extensions(app)
    register_error_handlers(app)
    register_request_rules(app)
    register_blueprints(app, api)
    register_commands(app)
    return app


def register_logging(app: Flask) -> None:
    from app.integrations.http import install_log_redaction

    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    install_log_redaction()


def register_extensions(app: Flask) -> Api:
    from app.auth.tokens import register_jwt_callbacks
    from app.database import register_database
    from app.jobs import celery_init_app
    from app.routing import IdConverter, id_parameter_schema

    app.url_map.converters["id"] = IdConverter
    db.init_app(app)
    register_database(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    jwt.init_app(app)
    register_jwt_callbacks()
    redis_store.init_app(app)
    api = Api(app)  # one per app: flask-smorest keeps the app and its spec on the instance
    api.register_converter(IdConverter, id_parameter_schema)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    celery_init_app(app)
    return api


def register_request_rules(app: Flask) -> None:
    @app.before_request
    def require_json_bodies():
        """A body the API would ignore or misread is refused up front."""
        has_body = request.content_length or request.headers.get("Transfer-Encoding")
        if request.method in BODY_METHODS and has_body and not request.is_json:
            return error_response(415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json).")
        return None


def register_blueprints(app: Flask, api: Api) -> None:
    from app import docs
    from app.auth.routes import blp as auth_blp
    from app.chat.routes import blp as chat_blp
    from app.ops.routes import blp as ops_blp
    from app.posts.routes import blp as posts_blp
    from app.sms.routes import blp as dev_blp
    from app.users.routes import blp as users_blp

    for blueprint in (auth_blp, users_blp, posts_blp, chat_blp, dev_blp, ops_blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.blp)


def register_commands(app: Flask) -> None:
    from app.profile_checks.commands import enrichment
    from bot.cli import run_bot

    app.cli.add_command(enrichment)
    app.cli.add_command(run_bot)
