"""``flask run-bot``: parse the options, serve an app in-process when no --base-url is given, run the bot.

The bot speaks HTTP only and imports nothing from ``app``: the app registers this command with a
way to build the app the bot's own server serves (``run_bot_command``).
"""

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager

import click
from flask import Flask

from bot.client import BotApiError
from bot.config import BotConfigError, load_config
from bot.floor import HashCost
from bot.runner import FLOOR_SAMPLE, Runner, format_summary, write_report
from bot.server import serve_in_thread


class ServerNotReady(Exception):
    """The app the bot would serve cannot be served (say, its database has no tables)."""


@contextmanager
def serve_in_process(app):
    """Serve ``app`` on a free 127.0.0.1 port with a threaded keep-alive WSGI server; yield its base URL."""
    server, thread = serve_in_thread(app)
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def served_hash_cost(app) -> HashCost:
    """The argon2id cost the served app hashes with: the floor is timed at exactly that cost."""
    config = app.config
    return HashCost(config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_KIB"],
                    config["PASSWORD_HASH_PARALLELISM"])


def parse_hash_cost(_ctx, _param, value):
    if value is None:
        return None
    try:
        return HashCost.parse(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def run_bot_command(served_app: Callable[[], AbstractContextManager[Flask]]) -> click.Command:
    """The ``run-bot`` command; without --base-url it serves the app ``served_app()`` yields (rate limits off, SPEC 11)."""

    @click.command("run-bot")
    @click.option("--config", "config_path", default="bot.json", show_default=True, help="The bot's JSON configuration.")
    @click.option("--base-url", default=None, help="Drive a running server; default: serve this app on a free loopback port.")
    @click.option("--seed", type=int, default=None, help="Seed for a repeatable run (overrides the config's seed).")
    @click.option("--report", "report_path", default=None, help="Also write the summary as JSON to this file.")
    @click.option("--quiet", is_flag=True, help="No progress bars and no summary on stdout.")
    @click.option("--concurrency", type=click.IntRange(min=1), default=None,
                  help="Requests in flight, one kept-alive connection each [default: 2 x cores].")
    @click.option("--hash-cost", callback=parse_hash_cost, default=None, metavar="T,M,P",
                  help="argon2id time cost, memory (KiB), parallelism of the floor; default: the served app's "
                       "settings in-process, else the server's defaults 2,19456,1.")
    @click.option("--floor-sample", type=click.IntRange(min=1), default=FLOOR_SAMPLE, show_default=True,
                  help="Hashes timed for the floor; the others are counted at their mean.")
    def run_bot(config_path, base_url, seed, report_path, quiet, concurrency, hash_cost, floor_sample):
        """Sign users up, let them post, then like by the bot's rules (README: The bot), and summarise."""
        try:
            config = load_config(config_path)
        except BotConfigError as error:
            click.echo(f"bot: {error}", err=True)
            sys.exit(2)
        options = {"seed": seed, "show_progress": not quiet and sys.stderr.isatty(), "concurrency": concurrency,
                   "floor_sample": floor_sample, "say": None if quiet else lambda line: click.echo(f"bot: {line}", err=True)}
        try:
            if base_url:
                report = Runner(config, base_url, hash_cost=hash_cost or HashCost(), **options).run()
            else:
                with served_app() as app, serve_in_process(app) as url:
                    report = Runner(config, url, hash_cost=hash_cost or served_hash_cost(app), **options).run()
        except (BotApiError, ServerNotReady) as error:
            click.echo(f"bot: {error}", err=True)
            sys.exit(1)
        if report_path:
            write_report(report, report_path)
        if not quiet:
            click.echo(format_summary(report))

    return run_bot
