"""Time the bot against its floor: the run's total over the password hashes it cannot avoid.

Two servers: the embedded default (the bot's own in-process server, SQLite, in-process
tasks) and gunicorn on PostgreSQL + Redis with a real Celery worker. For each run the floor
is timed in the same run, on the idle server, half just before and half just after: every one
of its 2 x users argon2id hashes, one after another, at the server's cost. The target is
total / floor <= 1.3.
Each phase's request rate is also shown beside the same server's bare /healthz rate.
The default size is the issue's 200 users x 10 posts x 20 likes; `--sizes` adds others
(e.g. 1000x10x20, about five times longer).
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
from contextlib import contextmanager

import psycopg

from bench.load import measure
from bench.server import ROOT, gunicorn
from bot.config import BotConfig
from bot.floor import HashCost
from bot.runner import Runner, default_concurrency

BASELINE_SECONDS = 3.0
TARGET_RATIO = 1.3


def baseline(base_url: str) -> float:
    """The bare request rate of this server: GET /healthz, 8 threads."""
    return measure(lambda session, n: session.get(f"{base_url}/healthz", timeout=10).status_code == 200,
                   seconds=BASELINE_SECONDS, threads=8)["rps"]


def row(server: str, config: BotConfig, report: dict, healthz_rps: float) -> dict:
    phases = {name: {**phase, "ratio_to_baseline": round(phase["requests_per_second"] / healthz_rps, 3)}
              for name, phase in report["phases"].items()}
    return {"server": server, "size": f"{config.number_of_users}x{config.max_posts_per_user}x{config.max_likes_per_user}",
            "concurrency": report["concurrency"], "seconds": report["seconds"],
            "floor_seconds": report["hash_floor"]["seconds"], "ratio_to_floor": report["ratio_to_floor"],
            "hash_floor": report["hash_floor"], "healthz_rps": healthz_rps, "phases": phases,
            "users": report["users"], "posts": report["posts"], "likes": report["likes"]}


def configured_hash_cost(config) -> HashCost:
    return HashCost(config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_KIB"],
                    config["PASSWORD_HASH_PARALLELISM"])


@contextmanager
def embedded_server():
    """The bot's own in-process server on a fresh embedded-default instance; yields its URL and hash cost."""
    from flask_migrate import upgrade

    from app import create_app
    from app.core.observability import quiet_access_log
    from bot.cli import serve_in_process

    with tempfile.TemporaryDirectory(prefix="agora-bench-") as instance:
        # As `flask run-bot` serves it: rate limits off (SPEC 11).
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.db", "RATELIMIT_ENABLED": False},
                         instance_path=instance)
        with app.app_context():
            upgrade()
        with quiet_access_log(), serve_in_process(app) as base_url:  # as `flask run-bot` serves it
            yield base_url, configured_hash_cost(app.config)
        app.extensions["tasks"].shutdown(wait=True)


@contextmanager
def postgres_stack(admin_url: str, redis_url: str):
    """gunicorn on a fresh PostgreSQL database and Redis, with a real Celery worker beside it."""
    from app.config import build_config

    name = f"agora_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            database_url = admin_url.rsplit("/", 1)[0] + f"/{name}"
            env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": f"{name}:",
                   "RATELIMIT_ENABLED": "false", "APP_ENV": "development"}
            with tempfile.TemporaryDirectory(prefix="agora-bench-") as instance:
                hash_cost = configured_hash_cost(build_config({**os.environ, **env}, instance))
            worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "tasks.worker", "worker", "--loglevel=WARNING",
                 "--concurrency=2", "-Q", "integrations,sms"],
                cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                # The bot keeps one connection alive per thread: threaded processes serve it (sync ones,
                # make serve's shape, close every connection, and the bot's Python client then spends
                # more on reconnecting than the server saves: 16.8 s against 12.9 s, measured).
                with gunicorn(env, workers=2 * (os.cpu_count() or 1) + 1, threads=4) as base_url:
                    yield base_url, hash_cost
            finally:
                worker.terminate()
                worker.wait(timeout=30)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(server_name: str, server, config: BotConfig, concurrency: int) -> dict:
    with server() as (base_url, hash_cost):
        healthz = baseline(base_url)
        report = Runner(config, base_url, seed=1, concurrency=concurrency, hash_cost=hash_cost,
                        floor_sample=None).run()
    result = row(server_name, config, report, healthz)
    floor = report["hash_floor"]
    verdict = "meets" if result["ratio_to_floor"] <= TARGET_RATIO else "misses"
    print(f"{server_name:<10} {result['size']:<10} total {result['seconds']:>6.2f}s  floor {floor['seconds']:>6.2f}s "
          f"({floor['hashes']} hashes x {floor['seconds_per_hash'] * 1000:.1f} ms)  ratio {result['ratio_to_floor']:.2f} "
          f"({verdict} {TARGET_RATIO})  concurrency {concurrency}  healthz {healthz:.0f} req/s")
    for name, phase in result["phases"].items():
        print(f"    {name:<7} {phase['seconds']:>6.2f}s {phase['requests']:>6} requests "
              f"{phase['requests_per_second']:>7.1f} req/s = {phase['ratio_to_baseline']:.3f} x healthz")
    return result


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200x10x20", help="comma-separated USERSxPOSTSxLIKES, e.g. 200x10x20,1000x10x20")
    parser.add_argument("--servers", default="embedded,postgres")
    parser.add_argument("--concurrency", type=int, default=default_concurrency(), help="the bot's (default: 2 x cores)")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args(argv)
    servers = {"embedded": embedded_server, "postgres": lambda: postgres_stack(args.postgres, args.redis)}
    results = []
    for size in args.sizes.split(","):
        users, posts, likes = (int(part) for part in size.split("x"))
        for name in args.servers.split(","):
            results.append(run(name, servers[name], BotConfig(users, posts, likes), args.concurrency))
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
