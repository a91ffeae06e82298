"""The bot's phases over HTTP: sign up and log in, post, then like by the planner's rules; then a summary.

Each phase runs on ``concurrency`` threads, each with its own client and kept-alive connection.
The likes are planned in full, then sent one user's run at a time (docs/bot.md says why).
"""

import json
import os
import random
import secrets
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby

import click

from bot.client import AgoraClient
from bot.config import BotConfig
from bot.floor import HASHES_PER_USER, HashClock, HashCost, HashFloor
from bot.planner import LikePlanner, PlannerUser

# The floor is timed on this many hashes (the rest extrapolated), so it adds a second, not a second run.
FLOOR_SAMPLE = 64


def default_concurrency() -> int:
    """Two requests in flight per core this process may use: one being served while the next one travels."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return 2 * max(cores, 1)


@dataclass
class BotUser:
    index: int
    email: str
    name: str
    id: int | None = None
    token: str | None = None
    signed_up_at: datetime | None = None
    post_ids: list[int] = field(default_factory=list)


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    requests: int = 0

    def report(self) -> dict:
        rate = round(self.requests / self.seconds, 1) if self.seconds else 0.0
        return {"seconds": round(self.seconds, 3), "requests": self.requests, "requests_per_second": rate}


class Runner:
    """One run of the bot against ``base_url``; ``run()`` returns the report."""

    def __init__(self, config: BotConfig, base_url: str, *, seed: int | None = None, show_progress: bool = False,
                 concurrency: int | None = None, hash_cost: HashCost | None = None,
                 floor_sample: int | None = FLOOR_SAMPLE, say=None):
        self.config = config
        self.seed = seed if seed is not None else config.seed
        self.rng = random.Random(self.seed)
        self.base_url = base_url
        self.show_progress = show_progress
        self.say = say  # say(line): how the run tells a person what it is waiting for (a server's limits)
        self.concurrency = default_concurrency() if concurrency is None else concurrency
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, not {self.concurrency}")
        self.hash_cost = hash_cost or HashCost()  # the server's defaults
        self.floor_sample = floor_sample  # None: time every hash of the floor
        self.run_tag = secrets.token_hex(4)  # emails must be new on a server that keeps earlier runs
        self.password = secrets.token_urlsafe(12)
        self.users: list[BotUser] = []
        self.planned_likes: list[tuple[int, int]] = []
        self.phases: dict[str, Phase] = {}
        self.clients: list[AgoraClient] = []

    # --- phases --------------------------------------------------------------------------------

    def run(self) -> dict:
        """Run the three phases, timing the hash floor before and after them; return the report."""
        hashes = HASHES_PER_USER * self.config.number_of_users
        timed = hashes if self.floor_sample is None else min(hashes, self.floor_sample)
        clock = HashClock(self.hash_cost)
        clock.time(timed // 2)
        self.clients = [AgoraClient(self.base_url, on_limit=self.on_limit) for _ in range(self.concurrency)]
        try:
            started = time.monotonic()
            self.clients[0].healthy()
            self.sign_up_and_log_in()
            self.write_posts()
            planner = self.like_posts()
            seconds = time.monotonic() - started
        finally:
            for client in self.clients:
                client.close()
        clock.time(timed - timed // 2)
        return self.summary(planner, seconds, clock.floor(hashes))

    def sign_up_and_log_in(self) -> None:
        self.users = [BotUser(index, f"bot-{self.run_tag}-{index + 1}@agora.test", f"Bot {index + 1}")
                      for index in range(self.config.number_of_users)]

        def join(client: AgoraClient, user: BotUser) -> None:
            account = client.signup(user.email, self.password, user.name)["user"]
            user.id, user.signed_up_at = account["id"], datetime.fromisoformat(account["created_at"])
            user.token = client.login(user.email, self.password)["access_token"]

        self._in_parallel("signup", [self.users], join)
        # Concurrent signups finish in any order: the rules' "earlier signup" is the server's record of it.
        self.users.sort(key=lambda user: (user.signed_up_at, user.id))

    def write_posts(self) -> None:
        counts = {user.id: self.rng.randint(0, self.config.max_posts_per_user) for user in self.users}  # signup order

        def write(client: AgoraClient, user: BotUser) -> None:
            for number in range(counts[user.id]):
                post = client.create_post(user.token, f"{user.name}'s post {number + 1}",
                                          f"Post {number + 1} of {counts[user.id]} by {user.name}.")
                user.post_ids.append(post["id"])

        self._in_parallel("posts", [self.users], write, total=sum(counts.values()), unit=lambda user: counts[user.id])

    def like_posts(self) -> LikePlanner:
        """Plan every like by the rules, then send it one user's run at a time; each like must be new (201).

        Within a run the likes go out concurrently (distinct posts of one liker); the barrier between
        runs keeps the server's record in the rules' order of likers.
        """
        planner = LikePlanner([PlannerUser(user.id, user.post_ids) for user in self.users],
                              self.config.max_likes_per_user, self.rng)
        self.planned_likes = list(planner.likes())  # pure and fast (bench/README.md has the measurement)
        token_of = {user.id: user.token for user in self.users}

        def like(client: AgoraClient, planned: tuple[int, int]) -> None:
            liker, post_id = planned
            client.like(token_of[liker], post_id)

        runs = [list(run) for _liker, run in groupby(self.planned_likes, key=lambda planned: planned[0])]
        self._in_parallel("likes", runs, like)
        return planner

    # --- plumbing ------------------------------------------------------------------------------

    def on_limit(self, seconds: float, method: str, path: str, code: str | None) -> None:
        """A server limit answered 429 (SPEC 8): the client waits it out, and the person is told."""
        if self.say is not None:
            self.say(f"{method} {path} answered 429 {code or 'too_many_requests'}: waiting {seconds:g} s, then going on")

    def _in_parallel(self, name: str, batches: list[list], work, *, total: int | None = None,
                     unit=lambda item: 1) -> None:
        """``work(client, item)`` for every item, batch after batch, one thread per client; the first error stops all.

        Workers take the next item of the batch from a shared iterator, so the items go out in about
        their order; a batch starts only once every item of the one before is done (a barrier).
        """
        phase = self.phases[name] = Phase(name)
        requests_before = sum(client.requests for client in self.clients)
        batches = [batch for batch in batches if batch]
        following = iter(batches[1:])
        pending = iter(batches[0] if batches else ())
        lock = threading.Lock()
        failed = threading.Event()
        errors: list[Exception] = []
        workers = min(len(self.clients), max(map(len, batches), default=0))

        def next_batch() -> None:  # the barrier runs it once, while every worker waits
            nonlocal pending
            pending = iter(next(following, ()))

        barrier = threading.Barrier(max(workers, 1), action=next_batch)
        started = time.monotonic()
        with self._progress(name, sum(map(len, batches)) if total is None else total) as bar:
            def drain(client: AgoraClient) -> None:
                for number in range(len(batches)):
                    while not failed.is_set():
                        with lock:
                            item = next(pending, _DONE)
                        if item is _DONE:
                            break
                        try:
                            work(client, item)
                        except Exception as error:  # noqa: BLE001 - re-raised by the caller once all workers stop
                            with lock:
                                errors.append(error)
                            failed.set()
                            barrier.abort()  # releases the workers waiting for this batch to end
                            return
                        with lock:
                            bar.update(unit(item))
                    if failed.is_set() or number == len(batches) - 1:
                        return
                    try:
                        barrier.wait()
                    except threading.BrokenBarrierError:
                        return

            if workers:
                with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"bot-{name}") as pool:
                    for future in [pool.submit(drain, client) for client in self.clients[:workers]]:
                        future.result()
        if errors:
            raise errors[0]  # the first failure, once every worker has stopped
        phase.seconds = time.monotonic() - started
        phase.requests = sum(client.requests for client in self.clients) - requests_before

    @contextmanager
    def _progress(self, label: str, length: int):
        if not self.show_progress or length == 0:
            yield _NoBar()
            return
        # Redrawn every 1% at most: thousands of redraws would cost the workers their GIL time.
        with click.progressbar(length=length, label=f"{label:<7}", file=sys.stderr, show_pos=True,
                               update_min_steps=max(1, length // 100)) as bar:
            yield bar

    def summary(self, planner: LikePlanner, seconds: float, floor: HashFloor) -> dict:
        given = [planner.likes_given[user.id] for user in self.users]
        return {
            "base_url": self.base_url,
            "seed": self.seed,
            "concurrency": self.concurrency,
            "config": {"number_of_users": self.config.number_of_users,
                       "max_posts_per_user": self.config.max_posts_per_user,
                       "max_likes_per_user": self.config.max_likes_per_user},
            "users": len(self.users),
            "posts": sum(len(user.post_ids) for user in self.users),
            "likes": len(self.planned_likes),
            "likes_per_user": {"min": min(given, default=0), "median": _number(statistics.median(given)) if given else 0,
                               "max": max(given, default=0)},
            "posts_with_zero_likes": planner.zero_like_total,
            "stop_reason": planner.stop_reason,
            "users_passed_over": len(planner.passed_over),
            "phases": {name: phase.report() for name, phase in self.phases.items()},
            "seconds": round(seconds, 3),
            "hash_floor": floor.report(),
            "ratio_to_floor": round(seconds / floor.seconds, 2) if floor.seconds else None,
        }


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


_DONE = object()


class _NoBar:
    def update(self, _count: int) -> None:
        """No progress display (quiet, or not a terminal)."""


def format_summary(report: dict) -> str:
    """The summary as a small table."""
    per_user = report["likes_per_user"]
    lines = [
        f"Agora bot finished in {report['seconds']:.2f} s against {report['base_url']}",
        f"  users                  {report['users']}",
        f"  posts                  {report['posts']}",
        f"  likes                  {report['likes']}",
        f"  likes per user         min {per_user['min']} / median {per_user['median']} / max {per_user['max']}",
        f"  posts still at 0 likes {report['posts_with_zero_likes']}",
        f"  stopped because        {report['stop_reason']}",
        "",
        f"  {'phase':<8}{'time':>10}{'requests':>10}{'req/s':>10}",
    ]
    for name, phase in report["phases"].items():
        lines.append(f"  {name:<8}{phase['seconds']:>9.2f}s{phase['requests']:>10}{phase['requests_per_second']:>10}")
    floor = report["hash_floor"]
    cost = HashCost(**floor["cost"])
    timed = "all timed" if floor["timed"] == floor["hashes"] else f"{floor['timed']} timed"
    ratio = f"{report['ratio_to_floor']:.2f}x" if report["ratio_to_floor"] else "n/a"
    lines += [
        "",
        (f"  hash floor  {floor['seconds']:>7.2f}s  {floor['hashes']} argon2id hashes ({cost}) one after another, "
         f"{floor['seconds_per_hash'] * 1000:.1f} ms each ({timed})"),
        f"  run / floor {ratio:>8}  {report['concurrency']} connections, kept alive",
    ]
    return "\n".join(lines)


def write_report(report: dict, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
        handle.write("\n")
