"""The bot's phases over HTTP: sign up and log in, post, then like by the planner's rules; then a summary."""

import json
import random
import secrets
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import click

from bot.client import AgoraClient
from bot.config import BotConfig
from bot.planner import LikePlanner, PlannerUser

WORKERS = 8  # concurrent signups and posts; liking stays sequential, its order is the rule


@dataclass
class BotUser:
    index: int
    email: str
    name: str
    id: int | None = None
    token: str | None = None
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
    def __init__(self, config: BotConfig, base_url: str, *, seed: int | None = None, show_progress: bool = False):
        self.config = config
        self.seed = seed if seed is not None else config.seed
        self.rng = random.Random(self.seed)
        self.base_url = base_url
        self.show_progress = show_progress
        self.run_tag = secrets.token_hex(4)  # emails must be new on a server that keeps earlier runs
        self.password = secrets.token_urlsafe(12)
        self.users: list[BotUser] = []
        self.phases: dict[str, Phase] = {}

    # --- phases --------------------------------------------------------------------------------

    def run(self) -> dict:
        started = time.monotonic()
        AgoraClient(self.base_url).healthy()
        self.sign_up_and_log_in()
        self.write_posts()
        planner, likes = self.like_posts()
        return self.summary(planner, likes, time.monotonic() - started)

    def sign_up_and_log_in(self) -> None:
        self.users = [BotUser(index, f"bot-{self.run_tag}-{index + 1}@agora.test", f"Bot {index + 1}")
                      for index in range(self.config.number_of_users)]

        def join(client: AgoraClient, user: BotUser) -> None:
            user.id = client.signup(user.email, self.password, user.name)["user"]["id"]
            user.token = client.login(user.email, self.password)["access_token"]

        self._concurrently("signup", self.users, join)

    def write_posts(self) -> None:
        counts = [self.rng.randint(0, self.config.max_posts_per_user) for _ in self.users]  # drawn in signup order

        def write(client: AgoraClient, user: BotUser) -> None:
            for number in range(counts[user.index]):
                post = client.create_post(user.token, f"{user.name}'s post {number + 1}",
                                          f"Post {number + 1} of {counts[user.index]} by {user.name}.")
                user.post_ids.append(post["id"])

        self._concurrently("posts", self.users, write, total=sum(counts), unit=lambda user: counts[user.index])

    def like_posts(self) -> tuple[LikePlanner, list[tuple[int, int]]]:
        planner = LikePlanner([PlannerUser(user.id, user.post_ids) for user in self.users],
                              self.config.max_likes_per_user, self.rng)
        likes = list(planner.likes())  # pure and fast: plan first, so progress knows its length
        token_of = {user.id: user.token for user in self.users}
        client = AgoraClient(self.base_url)
        phase = self.phases["likes"] = Phase("likes")
        started = time.monotonic()
        with self._progress("likes", len(likes)) as bar:
            for liker, post_id in likes:
                client.like(token_of[liker], post_id)
                bar.update(1)
        phase.seconds, phase.requests = time.monotonic() - started, client.requests
        client.close()
        return planner, likes

    # --- plumbing ------------------------------------------------------------------------------

    def _concurrently(self, name: str, users: list[BotUser], work, *, total=None, unit=lambda user: 1) -> None:
        phase = self.phases[name] = Phase(name)
        clients = []
        started = time.monotonic()
        with self._progress(name, len(users) if total is None else total) as bar, \
                ThreadPoolExecutor(max_workers=WORKERS) as pool:
            def task(user: BotUser) -> BotUser:
                client = AgoraClient(self.base_url)
                clients.append(client)
                try:
                    work(client, user)
                finally:
                    client.close()
                return user

            for user in (future.result() for future in [pool.submit(task, user) for user in users]):
                bar.update(unit(user))
        phase.seconds = time.monotonic() - started
        phase.requests = sum(client.requests for client in clients)

    @contextmanager
    def _progress(self, label: str, length: int):
        if not self.show_progress or length == 0:
            yield _NoBar()
            return
        with click.progressbar(length=length, label=f"{label:<7}", file=sys.stderr, show_pos=True) as bar:
            yield bar

    def summary(self, planner: LikePlanner, likes: list, seconds: float) -> dict:
        given = [planner.likes_given[user.id] for user in self.users]
        return {
            "base_url": self.base_url,
            "seed": self.seed,
            "config": {"number_of_users": self.config.number_of_users,
                       "max_posts_per_user": self.config.max_posts_per_user,
                       "max_likes_per_user": self.config.max_likes_per_user},
            "users": len(self.users),
            "posts": sum(len(user.post_ids) for user in self.users),
            "likes": len(likes),
            "likes_per_user": {"min": min(given, default=0), "median": _number(statistics.median(given)) if given else 0,
                               "max": max(given, default=0)},
            "posts_with_zero_likes": planner.zero_like_total,
            "stop_reason": planner.stop_reason,
            "users_passed_over": len(planner.passed_over),
            "phases": {name: phase.report() for name, phase in self.phases.items()},
            "seconds": round(seconds, 3),
        }


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


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
    return "\n".join(lines)


def write_report(report: dict, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
        handle.write("\n")
