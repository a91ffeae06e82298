"""The runner's plumbing: concurrent likes are exactly the plan, connections are kept alive, the floor is reported."""

import json
import threading
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.posts.models import Like
from bot import runner as runner_module
from bot.cli import serve_in_process
from bot.client import AgoraClient, BotApiError
from bot.config import BotConfig
from bot.floor import HashCost, measure_hash_floor
from bot.runner import Runner, default_concurrency, format_summary

CHEAP = HashCost(time_cost=1, memory_kib=1024, parallelism=1)  # the testing config's cost


def run(app, config: BotConfig, **options) -> Runner:
    with serve_in_process(app) as url:
        runner = Runner(config, url, seed=7, hash_cost=CHEAP, **options)
        runner.report = runner.run()
    return runner


def test_concurrent_likes_are_exactly_the_planned_likes(app):
    runner = run(app, BotConfig(12, 4, 6), concurrency=5)
    with app.app_context():
        stored = db.session.execute(select(Like.user_id, Like.post_id)).all()
    assert runner.planned_likes, "the plan should have likes"
    assert sorted(stored) == sorted(runner.planned_likes)
    assert runner.report["likes"] == len(runner.planned_likes)


def test_the_plan_does_not_depend_on_the_concurrency(make_app):
    config = BotConfig(9, 3, 4)
    one, many = run(make_app(), config, concurrency=1), run(make_app(), config, concurrency=6)
    assert [len(user.post_ids) for user in one.users] == [len(user.post_ids) for user in many.users]
    # Users are compared by their place in the recorded signup order, which concurrent signups may reshuffle.
    position = ({user.id: place for place, user in enumerate(one.users)},
                {user.id: place for place, user in enumerate(many.users)})
    posts = ({post: (position[0][user.id], n) for user in one.users for n, post in enumerate(user.post_ids)},
             {post: (position[1][user.id], n) for user in many.users for n, post in enumerate(user.post_ids)})
    assert [(position[0][liker], posts[0][post]) for liker, post in one.planned_likes] == \
           [(position[1][liker], posts[1][post]) for liker, post in many.planned_likes]


def test_each_worker_keeps_one_connection_for_the_whole_run(app):
    ports, lock = set(), threading.Lock()
    inner = app.wsgi_app

    def record_client_port(environ, start_response):
        with lock:
            ports.add(environ["REMOTE_PORT"])
        return inner(environ, start_response)

    app.wsgi_app = record_client_port
    runner = run(app, BotConfig(10, 3, 3), concurrency=3)
    assert runner.report["concurrency"] == 3
    requests = sum(phase["requests"] for phase in runner.report["phases"].values())
    assert requests > 30 and len(ports) <= 3


def test_the_report_names_the_hash_floor_beside_the_run(app):
    report = run(app, BotConfig(5, 2, 2), concurrency=2, floor_sample=4).report
    floor = report["hash_floor"]
    assert floor["hashes"] == 10 and floor["timed"] == 4  # signup and login, per user
    assert floor["cost"] == {"time_cost": 1, "memory_kib": 1024, "parallelism": 1}
    assert floor["seconds"] == pytest.approx(10 * floor["seconds_per_hash"], abs=1e-3)
    assert report["ratio_to_floor"] == pytest.approx(report["seconds"] / (10 * floor["seconds_per_hash"]), rel=0.02)
    summary = format_summary(report)
    assert "hash floor" in summary and "10 argon2id hashes (t=1, m=1024 KiB, p=1)" in summary
    assert f"{report['ratio_to_floor']:.2f}x" in summary


def test_run_bot_reports_the_floor_at_the_served_apps_cost(app, tmp_path):
    (tmp_path / "bot.json").write_text(json.dumps({"number_of_users": 3, "max_posts_per_user": 1,
                                                   "max_likes_per_user": 1}))
    result = app.test_cli_runner().invoke(args=["run-bot", "--config", str(tmp_path / "bot.json"), "--concurrency", "2",
                                                "--report", str(tmp_path / "r.json")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["concurrency"] == 2
    assert report["hash_floor"]["cost"] == {"time_cost": app.config["PASSWORD_HASH_TIME_COST"],
                                            "memory_kib": app.config["PASSWORD_HASH_MEMORY_KIB"],
                                            "parallelism": app.config["PASSWORD_HASH_PARALLELISM"]}
    assert "run / floor" in result.output


@pytest.mark.parametrize("args, message", [(["--concurrency", "0"], "--concurrency"),
                                           (["--hash-cost", "2,19456"], "TIME,MEMORY_KIB,PARALLELISM")])
def test_bad_runner_options_are_usage_errors(app, tmp_path, args, message):
    (tmp_path / "bot.json").write_text(json.dumps({"number_of_users": 1, "max_posts_per_user": 1,
                                                   "max_likes_per_user": 1}))
    result = app.test_cli_runner().invoke(args=["run-bot", "--config", str(tmp_path / "bot.json"), *args])
    assert result.exit_code == 2 and message in result.output


def test_the_floor_times_a_sample_and_counts_the_rest_at_its_mean():
    floor = measure_hash_floor(400, CHEAP, sample=3)
    assert (floor.hashes, floor.timed) == (400, 3)
    assert floor.seconds == pytest.approx(400 * floor.seconds_per_hash) and floor.seconds_per_hash > 0
    assert measure_hash_floor(6, CHEAP, sample=None).timed == 6
    assert measure_hash_floor(0, CHEAP).seconds == 0


def test_a_hash_cost_is_three_positive_integers():
    assert HashCost.parse("2,19456,1") == HashCost() == HashCost(2, 19 * 1024, 1)
    for text in ("2,19456", "2,x,1", "0,19456,1", ""):
        with pytest.raises(ValueError):
            HashCost.parse(text)


def test_concurrency_is_two_per_usable_core(monkeypatch):
    monkeypatch.setattr(runner_module.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert default_concurrency() == 6
    monkeypatch.delattr(runner_module.os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(runner_module.os, "cpu_count", lambda: None)
    assert default_concurrency() == 2


def test_the_first_failure_stops_every_worker_and_is_raised():
    runner = Runner(BotConfig(0, 0, 0), "http://127.0.0.1:1", concurrency=3)
    runner.clients = [AgoraClient("http://127.0.0.1:1") for _ in range(3)]
    done, lock = [], threading.Lock()

    def work(_client, item):
        if item == 5:
            raise BotApiError("POST", "/x", 500, "internal_error", "boom")
        with lock:
            done.append(item)

    with pytest.raises(BotApiError, match="boom"):  # workers waiting at the barrier between batches are released
        runner._in_parallel("likes", [list(range(start, start + 3)) for start in range(0, 1000, 3)], work)
    assert len(done) < 100


def test_a_batch_starts_only_once_the_one_before_is_done_and_its_items_overlap():
    runner = Runner(BotConfig(0, 0, 0), "http://127.0.0.1:1", concurrency=4)
    runner.clients = [AgoraClient("http://127.0.0.1:1") for _ in range(4)]
    events, lock = [], threading.Lock()
    in_flight, most_in_flight = [0], [0]

    def work(_client, item):
        with lock:
            events.append(("start", item[0]))
            in_flight[0] += 1
            most_in_flight[0] = max(most_in_flight[0], in_flight[0])
        time.sleep(0.002 * (item[1] % 3))  # uneven answers: the fast workers would run ahead without a barrier
        with lock:
            events.append(("end", item[0]))
            in_flight[0] -= 1

    batches = [[(batch, n) for n in range(5)] for batch in range(20)]
    runner._in_parallel("likes", batches, work)
    batch_of_each_event = [batch for _kind, batch in events]
    assert batch_of_each_event == sorted(batch_of_each_event)  # no start of a batch before every end of the last
    assert len(events) == 2 * 100 and most_in_flight[0] > 1


def test_a_like_answered_200_at_once_is_an_error(scripted_server):
    url, statuses = scripted_server
    statuses.append(200)  # the like existed before the bot sent it: the plan and the server disagree
    with pytest.raises(BotApiError, match="answered 200"):
        AgoraClient(url).like("token", 1)


def test_a_retried_like_may_find_its_earlier_attempt_done(scripted_server):
    url, statuses = scripted_server
    statuses.extend([503, 200])
    client = AgoraClient(url, backoff=0.001)
    assert client.like("token", 1)["liked"] is True
    assert client.requests == 2


def test_a_concurrency_below_one_is_refused():
    with pytest.raises(ValueError, match="concurrency must be >= 1"):
        Runner(BotConfig(1, 1, 1), "http://127.0.0.1:1", concurrency=0)
