"""The liking rules of SPEC 8, step 3 (docs/bot.md states them), as pure and deterministic code.

Post counts do not change while liking, so the liker order is fixed, and a user passed over stays
passed over (the candidates only shrink). The candidate pool has O(1) removal: a run costs
O(posts + likes), never a scan of all posts per like.
"""

import random
from dataclasses import dataclass, field

REJECTION_TRIES = 32

STOP_NO_ZERO_LIKE_POSTS = "no post has 0 likes"
STOP_EVERYONE_AT_MAX = "every user reached max_likes_per_user"
STOP_NOTHING_LEFT = "the users under max_likes_per_user had nothing left to like"


@dataclass
class PlannerUser:
    """A user as the planner sees them: signup order is their position in the list given."""

    id: int
    post_ids: list[int]


@dataclass
class LikePlanner:
    users: list[PlannerUser]
    max_likes: int
    rng: random.Random
    stop_reason: str | None = None
    likes_given: dict[int, int] = field(default_factory=dict)
    passed_over: list[int] = field(default_factory=list)

    def __post_init__(self):
        self.author_of = {post_id: user.id for user in self.users for post_id in user.post_ids}
        self.posts_of = {user.id: list(user.post_ids) for user in self.users}
        self.like_counts = {post_id: 0 for post_id in self.author_of}
        self.zero_like_posts_of = {user.id: len(user.post_ids) for user in self.users}
        self.zero_like_total = len(self.author_of)
        self.liked_by = {user.id: set() for user in self.users}
        self.likes_given = {user.id: 0 for user in self.users}
        # The pool: posts of authors who still have a zero-like post; `slot` finds a post in it.
        self.pool: list[int] = []
        self.slot: dict[int, int] = {}
        for user in self.users:
            if self.zero_like_posts_of[user.id]:
                for post_id in user.post_ids:
                    self._pool_add(post_id)

    # --- the order of likers -------------------------------------------------------------------

    def liker_order(self) -> list[int]:
        """Users by most posts, ties to the earlier signup."""
        order = sorted(range(len(self.users)), key=lambda index: (-len(self.users[index].post_ids), index))
        return [self.users[index].id for index in order]

    # --- the plan ------------------------------------------------------------------------------

    def likes(self):
        """Yield ``(liker_id, post_id)`` likes in order, applying each; sets ``stop_reason`` at the end."""
        for liker in self.liker_order():
            while self.likes_given[liker] < self.max_likes:
                if self.zero_like_total == 0:
                    self.stop_reason = STOP_NO_ZERO_LIKE_POSTS
                    return
                post_id = self.pick(liker)
                if post_id is None:
                    self.passed_over.append(liker)
                    break
                self.apply(liker, post_id)
                yield liker, post_id
        if self.zero_like_total == 0:
            self.stop_reason = STOP_NO_ZERO_LIKE_POSTS
        elif self.passed_over:
            self.stop_reason = STOP_NOTHING_LEFT
        else:
            self.stop_reason = STOP_EVERYONE_AT_MAX

    def eligible(self, liker: int, post_id: int) -> bool:
        return self.author_of[post_id] != liker and post_id not in self.liked_by[liker]

    def pick(self, liker: int) -> int | None:
        """A post chosen uniformly among those ``liker`` may like now; None if there is none."""
        if not self.pool:
            return None
        for _ in range(REJECTION_TRIES):  # uniform over the pool, accepted only if eligible: uniform over those
            post_id = self.pool[self.rng.randrange(len(self.pool))]
            if self.eligible(liker, post_id):
                return post_id
        candidates = [post_id for post_id in self.pool if self.eligible(liker, post_id)]
        return self.rng.choice(candidates) if candidates else None

    def apply(self, liker: int, post_id: int) -> None:
        """Record a like and keep the zero-like index and the pool true."""
        self.liked_by[liker].add(post_id)
        self.likes_given[liker] += 1
        self.like_counts[post_id] += 1
        if self.like_counts[post_id] == 1:
            author = self.author_of[post_id]
            self.zero_like_posts_of[author] -= 1
            self.zero_like_total -= 1
            if self.zero_like_posts_of[author] == 0:
                for own_post in self.posts_of[author]:
                    self._pool_remove(own_post)

    def _pool_add(self, post_id: int) -> None:
        self.slot[post_id] = len(self.pool)
        self.pool.append(post_id)

    def _pool_remove(self, post_id: int) -> None:
        index = self.slot.pop(post_id)
        last = self.pool.pop()
        if index < len(self.pool):
            self.pool[index] = last
            self.slot[last] = index


def plan_all(users: list[PlannerUser], max_likes: int, seed: int | None = None) -> tuple[list[tuple[int, int]], LikePlanner]:
    """Every like of a run at once (for tests and dry runs); returns the likes and the final planner."""
    planner = LikePlanner(users, max_likes, random.Random(seed))
    return list(planner.likes()), planner
