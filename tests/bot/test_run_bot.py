"""`flask run-bot`: configuration errors, an unreachable server, and real runs checked in the database and on record."""

import json
import logging

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.posts.models import Like, Post
from app.users.models import User
from bot.cli import serve_in_process
from bot.planner import STOP_EVERYONE_AT_MAX, STOP_NO_ZERO_LIKE_POSTS, STOP_NOTHING_LEFT
from tests.bot.record import read_record, rule_breaks
from tests.conftest import build_app, teardown_app

GOOD = {"number_of_users": 6, "max_posts_per_user": 3, "max_likes_per_user": 4}


def run_bot(app, *args):
    return app.test_cli_runner().invoke(args=["run-bot", *args], catch_exceptions=False)


def config_file(tmp_path, content) -> str:
    path = tmp_path / "bot.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2, 3]", "expected a JSON object"),
    ({"number_of_users": 1, "max_posts_per_user": 1}, "missing key 'max_likes_per_user'"),
    ({**GOOD, "colour": "blue"}, "unknown key 'colour'"),
    ({**GOOD, "number_of_users": -1}, "number_of_users must be >= 0, not -1"),
    ({**GOOD, "max_posts_per_user": 1.5}, "max_posts_per_user must be an integer, not 1.5"),
    ({**GOOD, "max_likes_per_user": "5"}, 'max_likes_per_user must be an integer, not "5"'),
    ({**GOOD, "number_of_users": True}, "number_of_users must be an integer, not true"),
    ({**GOOD, "seed": "x"}, 'seed must be an integer, not "x"'),
])
def test_a_bad_config_is_one_line_and_exit_status_2(app, tmp_path, content, message):
    result = run_bot(app, "--config", config_file(tmp_path, content))
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_missing_config_file_is_exit_status_2(app, tmp_path):
    result = run_bot(app, "--config", str(tmp_path / "nope.json"))
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_an_unreachable_base_url_is_one_line_and_exit_status_1(app, tmp_path):
    result = run_bot(app, "--config", config_file(tmp_path, GOOD), "--base-url", "http://127.0.0.1:1")
    assert result.exit_code == 1
    assert result.output.strip() == "bot: GET /healthz: cannot reach http://127.0.0.1:1 (ConnectionError)"


def test_an_unmigrated_database_is_named(tmp_path):
    bare = build_app(tmp_path / "bare")
    try:
        result = run_bot(bare, "--config", config_file(tmp_path, GOOD))
    finally:
        teardown_app(bare)
    assert result.exit_code == 1
    assert "flask db upgrade" in result.output


@pytest.mark.parametrize("config", [GOOD, {"number_of_users": 8, "max_posts_per_user": 1, "max_likes_per_user": 1},
                                    {"number_of_users": 3, "max_posts_per_user": 0, "max_likes_per_user": 5},
                                    {"number_of_users": 0, "max_posts_per_user": 5, "max_likes_per_user": 5}])
def test_a_run_obeys_every_rule_in_the_database(app, tmp_path, config):
    report_path = tmp_path / "report.json"
    result = run_bot(app, "--config", config_file(tmp_path, config), "--seed", "11", "--report", str(report_path))
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    assert f"stopped because        {report['stop_reason']}" in result.output

    with app.app_context():
        users = db.session.scalars(select(User)).all()
        posts = db.session.scalars(select(Post)).all()
        likes = db.session.execute(select(Like.user_id, Like.post_id)).all()
        author = {post.id: post.author_id for post in posts}
        assert len(users) == config["number_of_users"] == report["users"]
        per_author = {user.id: sum(1 for post in posts if post.author_id == user.id) for user in users}
        assert all(0 <= count <= config["max_posts_per_user"] for count in per_author.values())
        assert len(posts) == report["posts"] and len(likes) == report["likes"]
        assert all(author[post_id] != user_id for user_id, post_id in likes), "a self-like"
        assert len(set(likes)) == len(likes)
        given = {user.id: sum(1 for liker, _ in likes if liker == user.id) for user in users}
        assert all(count <= config["max_likes_per_user"] for count in given.values())
        assert all(post.like_count == sum(1 for _, post_id in likes if post_id == post.id) for post in posts)
        zero = [post for post in posts if post.like_count == 0]
        assert report["posts_with_zero_likes"] == len(zero)
        if report["stop_reason"] == STOP_NO_ZERO_LIKE_POSTS:
            assert zero == []
        elif report["stop_reason"] == STOP_EVERYONE_AT_MAX:
            assert zero and all(count == config["max_likes_per_user"] for count in given.values())
        else:
            assert report["stop_reason"] == STOP_NOTHING_LEFT and zero
        assert db.session.scalar(select(func.count()).select_from(User).where(User.email.like("bot-%@agora.test"))) == len(users)


# Enough runs on 4 connections that likes sent across two runs at once would show on record.
@pytest.mark.parametrize("config, seed", [({"number_of_users": 12, "max_posts_per_user": 4, "max_likes_per_user": 5}, 3),
                                          ({"number_of_users": 10, "max_posts_per_user": 2, "max_likes_per_user": 3}, 8)])
def test_the_likes_read_back_in_stored_order_keep_the_rules(app, tmp_path, config, seed):
    report_path = tmp_path / "report.json"
    result = run_bot(app, "--config", config_file(tmp_path, config), "--seed", str(seed), "--concurrency", "4",
                     "--quiet", "--report", str(report_path))
    assert result.exit_code == 0, result.output
    with app.app_context():
        user_ids = db.session.scalars(select(User.id)).all()
    with serve_in_process(app) as url:
        stored = read_record(url, user_ids)
    report = json.loads(report_path.read_text())
    assert len(stored.likes) == report["likes"] > 0
    assert rule_breaks(stored, config["max_likes_per_user"]) == [], report["stop_reason"]


def test_the_same_seed_gives_the_same_run_shape(app, tmp_path):
    shapes = []
    for attempt in range(2):
        path = tmp_path / f"r{attempt}.json"
        assert run_bot(app, "--config", config_file(tmp_path, GOOD), "--seed", "5", "--report", str(path),
                       "--quiet").exit_code == 0
        report = json.loads(path.read_text())
        shapes.append((report["posts"], report["likes"], report["likes_per_user"], report["stop_reason"]))
    assert shapes[0] == shapes[1]


def test_quiet_prints_nothing(app, tmp_path):
    result = run_bot(app, "--config", config_file(tmp_path, GOOD), "--quiet")
    assert result.exit_code == 0 and result.output == ""


def test_the_bots_own_server_writes_no_access_line_per_request(app, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="agora.access")
    result = run_bot(app, "--config", config_file(tmp_path, GOOD), "--quiet")
    assert result.exit_code == 0, result.output
    assert [record for record in caplog.records if record.name == "agora.access"] == []
    assert logging.getLogger("agora.access").level == logging.INFO  # put back after the run


def test_the_bots_own_server_logs_no_confirmation_mail_per_signup(app, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="app.mail.backends")
    assert app.config["MAIL_BACKEND"] == "console"
    result = run_bot(app, "--config", config_file(tmp_path, GOOD), "--quiet")
    assert result.exit_code == 0, result.output
    assert [record for record in caplog.records if record.name == "app.mail.backends"] == []
