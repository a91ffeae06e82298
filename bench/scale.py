"""Agora's read routes at 10,000 and at 1,000,000 posts: throughput must not fall with the data.

Each size gets a fresh PostgreSQL database of its own (dropped at the end) and an Agora served
as ``make serve`` starts it (gunicorn.conf.py, Redis). The data is seeded in bulk with SQL
(the large database first holds exactly the small one's rows, then grows), then
``VACUUM (ANALYZE)``. wrk (2 threads x 8 connections) drives, with a token: the first page of
the feed, a page deep in it (reached by following ``next_cursor``), and ``GET /users/me`` of a
user with 1,000 referrals. What grows is everyone else: the measured user's own referrals
(1,000), posts (50) and likes are the same at both sizes. The chat (issue 28) grows with the
user: the first page of messages of a conversation of 100, then of 100,000 messages, and the
first page of the conversation list of a user in 10, then in 1,000 conversations (beside 2,000,
then 50,000 of others'), seeded at each size directly; that page holds 10 conversations, all the
small user has, so both sizes answer as many (a page of 20 would be twice the answer at the large
size). The two sizes alternate, round by round,
so the machine's noise hits both alike; a ratio is the small size's best req/s over the large
size's (target < 1.5). ``--only`` measures some routes (every size is still seeded)."""

import argparse
import json
import os
import secrets
import time
from contextlib import contextmanager

import psycopg
import requests

from bench import wrk
from bench.routes import PASSWORD, database, keep_chat_state
from bench.server import gunicorn

TARGET = 1.5
# (posts, users): users grow with the posts, about 10 posts each at the large size
SIZES = [(10_000, 2_000), (1_000_000, 100_000)]
# my 1,000 referrals, 50 posts and 450 likes, all in the small set: the large one only adds others' rows
REFERRALS, MY_POSTS_EVERY, MY_POSTS_UNTIL = 1_000, 200, 10_000
DEEP_PAGES, PAGE = 1_000, 20
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ROUTES = ["GET /posts first page", "GET /posts deep page", "GET /users/me (1,000 referrals)",
          "GET /conversations/{id}/messages first page", "GET /conversations first page of 10"]
# The chat at each size (issue 28): the messages in my long conversation, the conversations I am in
# (each of the others with CHAT_EACH messages), and everyone else's conversations beside mine.
CHAT_SIZES = [{"messages": 100, "mine": 10, "others": 2_000}, {"messages": 100_000, "mine": 1_000, "others": 50_000}]
CHAT_EACH = 5


def base36(number: str, width: int = 6) -> str:
    """SQL for ``number`` in base 36, ``width`` characters, zero-padded: an invite code per seeded id."""
    return " || ".join(f"substr('{ALPHABET}', (({number}) / {36 ** power} % 36)::int + 1, 1)"
                       for power in reversed(range(width)))


def seed_users(cursor, first: int, last: int) -> None:
    """Users ``first..last`` (explicit ids): no password, checks skipped, invite codes from their ids."""
    cursor.execute(f"""
        INSERT INTO users (id, email, name, invite_code, email_status, enrichment_status, points,
                           created_at, updated_at)
        SELECT g, 'scale' || g || '@bench.test', 'User ' || g, {base36('g')}, 'skipped', 'skipped', 0,
               timestamptz '2025-01-01' + g * interval '1 minute', timestamptz '2025-01-01' + g * interval '1 minute'
        FROM generate_series({first}, {last}) AS g""")
    cursor.execute("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))")


def seed_posts(cursor, first: int, last: int, *, me: int, users: int) -> None:
    """Posts ``first..last`` by the ``users`` seeded after me, 30 s apart with a little jitter.

    Every 10th post is liked by a seeded user; every 20th of the small set by me, and 50 of them are mine.
    """
    series = f"""(
        SELECT g, created_at, author_id, {me + 1} + (g * 7) % {users} AS liker_id
        FROM generate_series({first}, {last}) AS g,
             LATERAL (SELECT timestamptz '2025-01-01' + g * interval '30 seconds' + (g % 7) * interval '1 second'
                             AS created_at,
                             CASE WHEN g % {MY_POSTS_EVERY} = 0 AND g <= {MY_POSTS_UNTIL} THEN {me}
                                  ELSE {me + 1} + g % {users} END AS author_id) AS per_post
    ) AS s"""
    mine = f"(g % 20 = 0 AND g <= {MY_POSTS_UNTIL} AND author_id <> {me})"
    theirs = "(g % 10 = 0 AND liker_id <> author_id)"
    cursor.execute(f"""
        INSERT INTO posts (id, author_id, title, body, like_count, created_at, updated_at)
        SELECT g, author_id, CASE WHEN g % 3 = 0 THEN NULL ELSE 'Post ' || g END,
               'Post number ' || g || ': ' || md5(g::text), {mine}::int + {theirs}::int, created_at, created_at
        FROM {series}""")
    cursor.execute(f"INSERT INTO likes (user_id, post_id, created_at) "
                   f"SELECT {me}, g, created_at + interval '1 hour' FROM {series} WHERE {mine}")
    cursor.execute(f"INSERT INTO likes (user_id, post_id, created_at) "
                   f"SELECT liker_id, g, created_at + interval '2 hours' FROM {series} WHERE {theirs}")
    cursor.execute("SELECT setval(pg_get_serial_sequence('posts', 'id'), (SELECT max(id) FROM posts))")


def seed_referrals(cursor, *, me: int, my_code: str) -> None:
    """The first REFERRALS users seeded after me activated my invite code, an hour apart."""
    cursor.execute(f"""
        UPDATE users SET referred_by_id = {me}, activated_invite_code = %(code)s,
                         referred_at = timestamptz '2025-06-01' + id * interval '1 hour'
        WHERE id BETWEEN {me + 1} AND {me + REFERRALS}""", {"code": my_code})


def grow(dsn: str, *, me: int, my_code: str, posts: tuple[int, int], users: tuple[int, int]) -> float:
    """Grow from ``(had, want)`` posts and seeded users in one transaction, then VACUUM (ANALYZE); returns seconds.

    Seeded users have the ids after mine (the only user signed up through the API).
    """
    started = time.monotonic()
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        seed_users(cursor, me + users[0] + 1, me + users[1])
        if users[0] == 0:
            seed_referrals(cursor, me=me, my_code=my_code)
        seed_posts(cursor, posts[0] + 1, posts[1], me=me, users=users[1])
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE) users, posts, likes")
    return time.monotonic() - started


def seed_chat(dsn: str, *, me: int, users: int, messages: int, mine: int, others: int) -> float:
    """My ``mine`` conversations, the first of ``messages`` messages, and ``others`` of other users; returns seconds.

    Each conversation has two participants (me, or a seeded user, and another) and CHAT_EACH messages
    written in turns, so a conversation's rows lie apart in the table as they do when people write at
    once (the long one's are written first); its last message and my read marker (all read but the
    last two) as the API keeps them.
    """
    started = time.monotonic()
    total = mine + others
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute(f"""
            INSERT INTO conversations (id, title, creator_id, created_at)
            SELECT g, 'Conversation ' || g, {me + 1} + g % {users}, timestamptz '2025-03-01' + g * interval '1 minute'
            FROM generate_series(1, {total}) AS g""")
        cursor.execute(f"""
            INSERT INTO conversation_participants (conversation_id, user_id, joined_at, activity_at)
            SELECT g, person, timestamptz '2025-03-01' + g * interval '1 minute', timestamptz '2025-03-01' + g * interval '1 minute'
            FROM generate_series(1, {total}) AS g,
                 LATERAL (VALUES (CASE WHEN g <= {mine} THEN {me} ELSE {me + 1} + g % {users} END),
                                 ({me + 1} + (g + 1) % {users})) AS people(person)""")
        for first_n, last_n, first_g, last_g in ((1, messages, 1, 1), (1, CHAT_EACH, 2, total)):
            cursor.execute(f"""
                INSERT INTO messages (conversation_id, author_id, kind, body, created_at)
                SELECT g, CASE WHEN n % 2 = 0 AND g <= {mine} THEN {me} ELSE {me + 1} + (g + n % 2) % {users} END,
                       'user', 'Message ' || n || ' in conversation ' || g,
                       timestamptz '2025-06-01' + n * interval '1 minute' + g * interval '1 millisecond'
                FROM generate_series({first_n}, {last_n}) AS n, generate_series({first_g}, {last_g}) AS g
                ORDER BY n, g""")
        keep_chat_state(cursor, me)
        for table in ("conversations", "messages"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE) conversations, conversation_participants, messages")
    return time.monotonic() - started


def deep_cursor(api: str, token: str, posts_deep: int) -> str:
    """The ``next_cursor`` after the newest ``posts_deep`` posts, walked 100 at a time."""
    cursor, seen = None, 0
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        while seen < posts_deep:
            limit = min(100, posts_deep - seen)
            page = session.get(f"{api}/posts", params={"limit": limit, **({"cursor": cursor} if cursor else {})},
                               timeout=30)
            page.raise_for_status()
            cursor, seen = page.json()["next_cursor"], seen + limit
    return cursor


@contextmanager
def site(postgres: str, redis: str, posts: int):
    """Agora on a database of its own seeded to ``posts`` (through every smaller size); yields what to measure."""
    with database(postgres) as database_url:
        dsn = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        env = {"DATABASE_URL": database_url, "REDIS_URL": redis, "RATELIMIT_ENABLED": "false",
               "REDIS_KEY_PREFIX": f"bench-scale-{secrets.token_hex(3)}:", "JWT_ACCESS_MINUTES": "120"}
        with gunicorn(env, workers=None, threads=None) as agora:
            api = f"{agora}/api/v1"
            signup = requests.post(f"{api}/auth/signup", timeout=30, json={
                "email": f"me-{secrets.token_hex(3)}@bench.test", "password": PASSWORD, "name": "Me"})
            signup.raise_for_status()
            me, token = signup.json()["user"], signup.json()["access_token"]
            my_code = me["invite_code"]
            if my_code.startswith("00"):  # seeded codes are base-36 ids, all "00....": keep mine apart
                my_code = "ZZZZZZ"
                with psycopg.connect(dsn) as connection:
                    connection.execute("UPDATE users SET invite_code = %s WHERE id = %s", (my_code, me["id"]))
            had, seconds = (0, 0), 0.0
            for size in [size for size in SIZES if size[0] <= posts]:
                seconds += grow(dsn, me=me["id"], my_code=my_code, posts=(had[0], size[0]), users=(had[1], size[1]))
                had = size
            chat = CHAT_SIZES[[size[0] for size in SIZES].index(posts)]
            seconds += seed_chat(dsn, me=me["id"], users=had[1], **chat)
            deep = min(DEEP_PAGES, posts // PAGE // 2)  # 10,000 posts have 500 pages: take the middle one there
            cursor = deep_cursor(api, token, deep * PAGE)
            profile = requests.get(f"{api}/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
            assert profile["referral_count"] == REFERRALS, profile["referral_count"]
            yield {"posts": posts, "users": had[1], "seed_seconds": round(seconds, 1), "token": token,
                   "pages_deep": deep, "chat": chat, "urls": {
                       ROUTES[0]: f"{api}/posts?limit={PAGE}",
                       ROUTES[1]: f"{api}/posts?limit={PAGE}&cursor={cursor}",
                       ROUTES[2]: f"{api}/users/me",
                       ROUTES[3]: f"{api}/conversations/1/messages?limit={PAGE}",
                       ROUTES[4]: f"{api}/conversations?limit={CHAT_SIZES[0]['mine']}",
                   }}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--only", help="measure only the routes whose name contains this (every size is seeded)")
    args = parser.parse_args(argv)
    (small_posts, _), (large_posts, _) = SIZES
    result = {"sizes": {}, "ratios": {}, "target": TARGET}
    with site(args.postgres, args.redis, small_posts) as small, site(args.postgres, args.redis, large_posts) as large:
        sites = (small, large)
        for measured in sites:
            print(f"{measured['posts']:>9,} posts, {measured['users']:,} users: seeded in {measured['seed_seconds']} s; "
                  f"the deep page follows {measured['pages_deep']:,} pages of {PAGE}; chat: "
                  f"{measured['chat']['messages']:,} messages in one conversation, {measured['chat']['mine']:,} "
                  f"conversations of mine, {measured['chat']['others']:,} of others", flush=True)
            result["sizes"][str(measured["posts"])] = {
                key: measured[key] for key in ("users", "seed_seconds", "pages_deep", "chat")} | {"routes": {}}
        print(f"{'route':<44} {'posts':>9} {'round':>5} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}", flush=True)
        for name in [route for route in ROUTES if not args.only or args.only in route]:
            for measured in sites:  # warm-up: caches and connection pools, not measured
                wrk.run(measured["urls"][name], token=measured["token"], seconds=1)
            runs = {measured["posts"]: [] for measured in sites}
            for round_no in range(1, args.rounds + 1):
                for measured in sites:  # the sizes alternate, so a noisy moment hits both alike
                    run = wrk.run(measured["urls"][name], token=measured["token"], seconds=args.seconds)
                    runs[measured["posts"]].append(run)
                    print(f"{name:<44} {measured['posts']:>9,} {round_no:>5} {run['rps']:>8.0f} {run['p50_ms']:>7.2f} "
                          f"{run['p99_ms']:>7.2f}{wrk.failures(run)}", flush=True)
            best = {}
            for posts, size_runs in runs.items():  # noise only ever slows a run: keep each size's best
                best[posts] = max(size_runs, key=lambda run: run["rps"])
                result["sizes"][str(posts)]["routes"][name] = {**best[posts], "runs": size_runs}
            ratio = round(best[small_posts]["rps"] / best[large_posts]["rps"], 3) if best[large_posts]["rps"] else None
            result["ratios"][name] = ratio
            verdict = "ok" if ratio is not None and ratio < TARGET else "MISSED"
            print(f"{name:<44} best {best[small_posts]['rps']:.0f} / {best[large_posts]['rps']:.0f} req/s: "
                  f"ratio {ratio:.2f} (target < {TARGET}) {verdict}", flush=True)
    return result


if __name__ == "__main__":
    print(json.dumps(main()))
