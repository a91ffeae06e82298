"""``flask run-bot``: parse the options, serve the app in-process when no --base-url is given, run the bot."""

import sys
import threading
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import WSGIRequestHandler, make_server

from bot.client import BotApiError
from bot.config import BotConfigError, load_config
from bot.runner import Runner, format_summary, write_report


class QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        """Thousands of bot requests would bury the summary: the server logs errors only."""


@contextmanager
def serve_in_process(app):
    """Serve ``app`` on a free 127.0.0.1 port with a threaded WSGI server; yield its base URL."""
    app.config["RATELIMIT_ENABLED"] = False  # the bot's own server only (SPEC 11)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="bot-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def database_ready(app) -> bool:
    from sqlalchemy import inspect

    from app.extensions import db

    with app.app_context():
        return inspect(db.engine).has_table("users")


@click.command("run-bot")
@click.option("--config", "config_path", default="bot.json", show_default=True, help="The bot's JSON configuration.")
@click.option("--base-url", default=None, help="Drive a running server; default: serve this app on a free loopback port.")
@click.option("--seed", type=int, default=None, help="Seed for a repeatable run (overrides the config's seed).")
@click.option("--report", "report_path", default=None, help="Also write the summary as JSON to this file.")
@click.option("--quiet", is_flag=True, help="No progress bars and no summary on stdout.")
@with_appcontext
def run_bot(config_path, base_url, seed, report_path, quiet):
    """Sign users up, let them post, then like by the rules of SPEC 8, and summarise."""
    try:
        config = load_config(config_path)
    except BotConfigError as error:
        click.echo(f"bot: {error}", err=True)
        sys.exit(2)
    app = current_app._get_current_object()
    if base_url is None and not database_ready(app):
        click.echo("bot: the database has no tables: run `flask db upgrade` first (make bot does)", err=True)
        sys.exit(1)
    show_progress = not quiet and sys.stderr.isatty()
    try:
        if base_url:
            report = Runner(config, base_url, seed=seed, show_progress=show_progress).run()
        else:
            with serve_in_process(app) as url:
                report = Runner(config, url, seed=seed, show_progress=show_progress).run()
    except BotApiError as error:
        click.echo(f"bot: {error}", err=True)
        sys.exit(1)
    if report_path:
        write_report(report, report_path)
    if not quiet:
        click.echo(format_summary(report))
