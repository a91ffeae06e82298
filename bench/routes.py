"""Agora's hot routes against a bare Flask + psycopg route doing the least the same use case needs.

One run serves both on the same PostgreSQL database: Agora as ``make serve`` starts it
(gunicorn.conf.py, with Redis), the bare app (``bench/bare.py``) under gunicorn with 2 sync
workers; wrk drives each pair in turn, 2 threads x 8 connections, for ``--rounds`` rounds.
A ratio is Agora's requests/s over the bare route's, measured back to back. The chat reads
(issue 28) are held against the primary-key read: a first page of 20 messages in a conversation
of 1,000, and the first page of a list of 20 conversations, seeded with SQL.
"""

import argparse
import json
import os
import secrets
import sys
from contextlib import contextmanager

import psycopg
import requests

from bench import wrk
from bench.server import free_port, gunicorn, serving

PASSWORD = "plum tractor sings"
# (name, the bare route it is held against, target ratio)
ROUTES = [
    ("GET /healthz", "healthz", 0.9),
    ("GET /posts/{id} with a token", "read", 0.5),
    ("GET /posts/{id} anonymous", "read", 0.6),
    ("GET /posts first page of 20, with a token", "read", 0.3),
    ("GET /users/me", "read", 0.4),
    ("POST /posts/{id}/like (already liked)", "update", 0.5),
    ("POST /posts", "insert", 0.4),
    ("POST /conversations/{id}/messages", "insert", 0.4),
    ("GET /conversations/{id}/messages first page of 20", "read", 0.3),
    ("GET /conversations first page of 20", "read", 0.25),
]
# Seeded with SQL, beside the API's seed (issue 28): Bob's 20 conversations with Ann, 5 messages each, and
# the first of them long; Bob has read all but each one's last two messages.
CHAT_CONVERSATIONS, CHAT_MESSAGES_EACH, LONG_CONVERSATION = 20, 5, 1_000


@contextmanager
def database(admin_url: str):
    """A fresh PostgreSQL database of this run's own, dropped at the end; yields its SQLAlchemy URL."""
    name = f"agora_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield "postgresql+psycopg://" + admin_url.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def bare_server(database_url: str):
    port = free_port()
    env = {**os.environ, "BARE_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "gunicorn", "--config", "/dev/null", "--workers", "2", "--worker-class", "sync", "--bind",
               f"127.0.0.1:{port}", "--no-control-socket", "--access-logfile", "/dev/null", "bench.bare:app"]
    with serving(command, env, port) as base_url:
        yield base_url


def seed(base_url: str) -> dict:
    """Two users, a post by the first liked by the second, a conversation between them."""
    def call(method, path, token=None, **body):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = requests.request(method, base_url + path, json=body or None, headers=headers, timeout=10)
        response.raise_for_status()
        return response.json()

    run = secrets.token_hex(3)
    ann = call("POST", "/api/v1/auth/signup", email=f"ann-{run}@bench.test", password=PASSWORD, name="Ann")
    bob = call("POST", "/api/v1/auth/signup", email=f"bob-{run}@bench.test", password=PASSWORD, name="Bob")
    post = call("POST", "/api/v1/posts", ann["access_token"], title="Hello", body="A post to read and like")
    call("POST", f"/api/v1/posts/{post['id']}/like", bob["access_token"])
    for n in range(25):
        call("POST", "/api/v1/posts", ann["access_token"], body=f"filler {n}")
    conversation = call("POST", "/api/v1/conversations", ann["access_token"], title="Bench",
                        participant_ids=[bob["user"]["id"]])
    return {"post_id": post["id"], "author_id": ann["user"]["id"], "ann": ann["access_token"],
            "bob": bob["access_token"], "conversation_id": conversation["id"], "ann_id": ann["user"]["id"],
            "bob_id": bob["user"]["id"]}


# Seeded messages as the API keeps them: each conversation's last message, every participant's
# activity, and the reader's marker (all read but the last two).
CHAT_STATE = [
    """UPDATE conversations c SET last_message_id = newest.id, last_message_at = newest.created_at
       FROM (SELECT DISTINCT ON (conversation_id) conversation_id, id, created_at FROM messages
             ORDER BY conversation_id, created_at DESC, id DESC) AS newest
       WHERE newest.conversation_id = c.id""",
    """UPDATE conversation_participants p SET activity_at = c.last_message_at
       FROM conversations c WHERE c.id = p.conversation_id AND c.last_message_at IS NOT NULL""",
    """UPDATE conversation_participants p SET last_read_message_id = c.last_message_id - 2
       FROM conversations c WHERE c.id = p.conversation_id AND p.user_id = %(reader)s""",
]


def keep_chat_state(connection, reader_id: int) -> None:
    for statement in CHAT_STATE:
        connection.execute(statement, {"reader": reader_id})


def seed_chat(database_url: str, seeded: dict) -> None:
    """Bob's other conversations and messages in all of them, kept as the API keeps them (last message, markers)."""
    ann, bob, first = seeded["ann_id"], seeded["bob_id"], seeded["conversation_id"]
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn) as connection:
        connection.execute("""
            WITH made AS (
                INSERT INTO conversations (title, creator_id, created_at)
                SELECT 'Bench ' || g, %(ann)s, now() - interval '1 day' FROM generate_series(2, %(count)s) AS g
                RETURNING id)
            INSERT INTO conversation_participants (conversation_id, user_id, joined_at, activity_at)
            SELECT id, person, now() - interval '1 day', now() - interval '1 day' FROM made, (VALUES (%(ann)s), (%(bob)s)) AS people(person)""",
                           {"ann": ann, "bob": bob, "count": CHAT_CONVERSATIONS})
        connection.execute("""
            INSERT INTO messages (conversation_id, author_id, kind, body, created_at)
            SELECT p.conversation_id, CASE WHEN n %% 2 = 0 THEN %(ann)s ELSE %(bob)s END, 'user',
                   'Message ' || n || ' of a benchmark conversation',
                   now() - interval '1 hour' + n * interval '1 second'
            FROM conversation_participants p,
                 generate_series(1, CASE WHEN p.conversation_id = %(first)s THEN %(long)s ELSE %(each)s END) AS n
            WHERE p.user_id = %(bob)s ORDER BY n, p.conversation_id""",
                           {"ann": ann, "bob": bob, "first": first, "long": LONG_CONVERSATION,
                            "each": CHAT_MESSAGES_EACH})
        keep_chat_state(connection, bob)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE conversations, conversation_participants, messages")


def bare_requests(bare: str, seeded: dict) -> dict:
    post = seeded["post_id"]
    return {
        "healthz": dict(url=f"{bare}/healthz"),
        "read": dict(url=f"{bare}/posts/{post}"),
        "update": dict(url=f"{bare}/posts/{post}/touch", method="POST"),
        "insert": dict(url=f"{bare}/posts", method="POST", body={"author_id": seeded["author_id"], "body": "bench"}),
    }


def agora_requests(agora: str, seeded: dict) -> dict:
    post, conversation = seeded["post_id"], seeded["conversation_id"]
    api = f"{agora}/api/v1"
    return {
        "GET /healthz": dict(url=f"{agora}/healthz"),
        "GET /posts/{id} with a token": dict(url=f"{api}/posts/{post}", token=seeded["bob"]),
        "GET /posts/{id} anonymous": dict(url=f"{api}/posts/{post}"),
        "GET /posts first page of 20, with a token": dict(url=f"{api}/posts?limit=20", token=seeded["bob"]),
        "GET /users/me": dict(url=f"{api}/users/me", token=seeded["bob"]),
        "POST /posts/{id}/like (already liked)": dict(url=f"{api}/posts/{post}/like", method="POST", token=seeded["bob"]),
        "POST /posts": dict(url=f"{api}/posts", method="POST", token=seeded["ann"], body={"body": "bench"}),
        "POST /conversations/{id}/messages": dict(url=f"{api}/conversations/{conversation}/messages", method="POST",
                                                  token=seeded["bob"], body={"body": "bench"}),
        "GET /conversations/{id}/messages first page of 20": dict(
            url=f"{api}/conversations/{conversation}/messages?limit=20", token=seeded["bob"]),
        "GET /conversations first page of 20": dict(url=f"{api}/conversations?limit=20", token=seeded["bob"]),
    }


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", help="run only the routes whose name contains this")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args(argv)
    routes = [route for route in ROUTES if not args.only or args.only in route[0]]
    results = []
    with database(args.postgres) as database_url:
        env = {"DATABASE_URL": database_url, "REDIS_URL": args.redis, "REDIS_KEY_PREFIX": f"bench-{secrets.token_hex(3)}:",
               "JWT_ACCESS_MINUTES": "120", "RATELIMIT_ENABLED": "false"}  # wrk writes as one user
        with gunicorn(env, workers=None, threads=None) as agora, bare_server(database_url) as bare:
            seeded = seed(agora)
            seed_chat(database_url, seeded)
            bares, agoras = bare_requests(bare, seeded), agora_requests(agora, seeded)
            print(f"{'route':<44} {'round':>5} {'bare r/s':>9} {'agora r/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
                  f"{'ratio':>6} {'target':>6}")
            for name, bare_name, target in routes:
                for round_no in range(1, args.rounds + 1):
                    baseline, measured, ratio = wrk.paired(bares[bare_name], agoras[name], args.seconds)
                    results.append({"route": name, "round": round_no, "baseline_route": bare_name, "bare": baseline,
                                    "agora": measured, "ratio": ratio, "target": target})
                    print(f"{name:<44} {round_no:>5} {baseline['rps']:>9.0f} {measured['rps']:>9.0f} "
                          f"{measured['p50_ms']:>7.2f} {measured['p99_ms']:>7.2f} {ratio:>6.2f} {target:>6.2f}"
                          f"{wrk.failures(measured)}",
                          flush=True)
    return results


if __name__ == "__main__":
    print(json.dumps(main()))
