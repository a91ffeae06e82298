"""The bot against gunicorn on PostgreSQL and Redis: the likes it leaves on record keep SPEC 8's rules and order."""

import os

import pytest

from bot.config import BotConfig
from bot.floor import HashCost
from bot.runner import Runner
from tests.bot.record import read_record, rule_breaks
from tests.stack.web_process import WebServer

pytestmark = pytest.mark.stack

# About 40 runs of up to 8 likes on 4 connections, served by 3 processes: runs sent without a barrier cross.
CONFIG = BotConfig(number_of_users=40, max_posts_per_user=5, max_likes_per_user=8)
TESTING_HASH_COST = HashCost(time_cost=1, memory_kib=1024, parallelism=1)


@pytest.fixture
def served_on_postgresql(pg_app, redis_url, tmp_path):
    """gunicorn on the test database and Redis, limits off as for the bot's own server; yields its URL."""
    url, prefix = redis_url
    env = {**os.environ, "DATABASE_URL": pg_app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": url,
           "REDIS_KEY_PREFIX": f"{prefix}{os.urandom(4).hex()}:", "RATELIMIT_ENABLED": "false",
           "WEB_CONCURRENCY": "3", "GUNICORN_THREADS": "4", "LOG_LEVEL": "WARNING"}
    with WebServer(env, tmp_path / "gunicorn.log") as web:
        yield web.url


def test_the_bots_likes_on_postgresql_read_back_in_stored_order_keep_the_rules(served_on_postgresql):
    runner = Runner(CONFIG, served_on_postgresql, seed=25, concurrency=4, hash_cost=TESTING_HASH_COST, floor_sample=4)
    report = runner.run()
    stored = read_record(served_on_postgresql, [user.id for user in runner.users])
    assert len(stored.likes) == report["likes"] > 0
    assert rule_breaks(stored, CONFIG.max_likes_per_user) == [], report["stop_reason"]
