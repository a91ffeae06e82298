"""The app `flask run-bot` serves when given no --base-url."""

from collections.abc import Callable, Mapping
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import inspect

from app.config import ConfigError
from app.core.observability import quiet_access_log
from app.extensions import db
from bot.cli import ServerNotReady


@contextmanager
def bot_server_app(app: Flask, build: Callable[[Mapping], Flask], overrides: Mapping):
    """``app``'s configuration (``overrides`` over the environment) with rate limits off (SPEC 11), built
    anew by ``build`` (the factory), so the app the command runs in is never changed."""
    # The bot's addresses (agora.test) read no mail: their confirmation codes go to the in-process outbox,
    # not one console line per signup between the bot's progress lines.
    quiet_mail = {"MAIL_BACKEND": "outbox"} if app.config["MAIL_BACKEND"] == "console" else {}
    try:
        served = build({**overrides, **quiet_mail, "RATELIMIT_ENABLED": False})
    except ConfigError as error:  # production refuses limits off: the bot drives a real server there
        raise ServerNotReady(f"{error}; drive a running server with --base-url") from None
    try:
        with served.app_context():
            if not inspect(db.engine).has_table("users"):
                raise ServerNotReady("the database has no tables: run `flask db upgrade` first (make bot does)")
        with quiet_access_log():
            yield served
    finally:
        served.extensions["tasks"].shutdown(wait=True)
        with served.app_context():
            db.engine.dispose()
