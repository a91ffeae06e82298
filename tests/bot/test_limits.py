"""The bot against a server whose limits are on (SPEC 8): a 429 is waited out, said, and the run goes on."""

import json
import time

import pytest

from app.core.limits import WRITE_LIMITS, WriteLimit
from bot.cli import serve_in_process
from bot.client import LIMIT_WAITS, AgoraClient, BotApiError
from bot.config import BotConfig
from bot.floor import HashCost
from bot.runner import Runner


def test_a_429_is_waited_out_for_its_retry_after_and_said(scripted_server):
    url, script = scripted_server
    script.append((429, "1"))
    told = []
    client = AgoraClient(url, on_limit=lambda *what: told.append(what))
    started = time.monotonic()
    assert client.like("token", 1)["liked"] is True
    assert time.monotonic() - started >= 1.0
    assert told == [(1.0, "POST", "/api/v1/posts/1/like", "too_many_requests")]


def test_waiting_out_limits_spends_no_retry(scripted_server):
    url, script = scripted_server
    script.extend([(429, "0")] * 6)
    client = AgoraClient(url, retries=1)
    assert client.like("token", 1)["liked"] is True  # six 429s, then the like: a 200 now would be an error
    assert client.requests == 7


def test_a_server_that_never_stops_refusing_ends_the_run(scripted_server):
    url, script = scripted_server
    script.extend([(429, "0")] * (LIMIT_WAITS + 1))
    with pytest.raises(BotApiError, match="answered 429 too_many_requests"):
        AgoraClient(url).like("token", 1)


def test_the_bot_waits_out_a_servers_post_limit_says_so_and_finishes(make_app, monkeypatch):
    # One post per user per second: a window the test can wait out.
    monkeypatch.setitem(WRITE_LIMITS, "posts", WriteLimit("POSTS_PER_MINUTE", 1, "posts"))
    app = make_app(POSTS_PER_MINUTE=1)
    said = []
    with serve_in_process(app) as url:
        runner = Runner(BotConfig(2, 3, 1), url, seed=5, concurrency=2, say=said.append,
                        hash_cost=HashCost(time_cost=1, memory_kib=1024, parallelism=1))
        report = runner.run()
    assert sorted(len(user.post_ids) for user in runner.users) == [2, 2]  # seed 5: each user's 2nd post waits
    assert report["posts"] == 4 and report["likes"] >= 1
    assert said and all(line.startswith("POST /api/v1/posts answered 429 too_many_requests: waiting 1 s")
                        for line in said)


@pytest.mark.timeout(120)  # with the limits on, the second signup would wait out an hour
def test_the_bots_own_server_runs_without_the_write_limits(make_app, tmp_path):
    app = make_app(SIGNUPS_PER_IP_PER_HOUR=1, POSTS_PER_MINUTE=1, LIKES_PER_MINUTE=1)
    (tmp_path / "bot.json").write_text(json.dumps({"number_of_users": 4, "max_posts_per_user": 3,
                                                   "max_likes_per_user": 3}))
    result = app.test_cli_runner().invoke(args=["run-bot", "--config", str(tmp_path / "bot.json"), "--seed", "9"],
                                          catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "429" not in result.output
    assert "users                  4" in result.output
