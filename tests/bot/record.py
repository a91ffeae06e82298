"""SPEC 8 on what the server records: the bot's likes read back through the API in stored order, checked by a naive model.

The model is written from the rules, not from the planner: it replays the stored runs one by
one and, at each, recomputes from scratch who may like what. The likes within a run may have
overlapped (SPEC 8), so a run is checked as a whole: every post in it must be one its liker may
like when the run starts. That is exactly "some order of the run keeps the rules": an author's
zero-like count only falls, and the run can like their posts that already have likes first.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby, pairwise

import requests

PAGE = 100


@dataclass(frozen=True)
class StoredLike:
    created_at: datetime
    user_id: int
    post_id: int


@dataclass
class Record:
    """The bot's users in signup order, their posts, and their likes in stored (``created_at``) order."""

    signups: list[int]
    posts_of: dict[int, list[int]]
    likes: list[StoredLike]


def read_record(base_url: str, user_ids: list[int]) -> Record:
    """Read the users' signups, posts and likes back from the API."""
    with requests.Session() as session:
        def get(path: str, **params) -> dict:
            response = session.get(f"{base_url}/api/v1{path}", params=params, timeout=10)
            assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text[:200]}"
            return response.json()

        def every_item(path: str, **params):
            cursor = None
            while True:
                page = get(path, limit=PAGE, **params, **({"cursor": cursor} if cursor else {}))
                yield from page["items"]
                if (cursor := page["next_cursor"]) is None:
                    return

        signed_up = {user_id: datetime.fromisoformat(get(f"/users/{user_id}")["created_at"]) for user_id in user_ids}
        posts_of = {user_id: [post["id"] for post in every_item("/posts", author_id=user_id)] for user_id in user_ids}
        likes = [StoredLike(datetime.fromisoformat(like["created_at"]), like["user"]["id"], post_id)
                 for posts in posts_of.values() for post_id in posts for like in every_item(f"/posts/{post_id}/likes")]
    return Record(signups=sorted(user_ids, key=lambda user_id: (signed_up[user_id], user_id)), posts_of=posts_of,
                  likes=sorted(likes, key=lambda like: like.created_at))


def rule_breaks(record: Record, max_likes: int) -> list[str]:
    """Every way the record breaks SPEC 8's liking rules, in words; empty when it keeps them."""
    author_of = {post_id: user_id for user_id, posts in record.posts_of.items() for post_id in posts}
    breaks = [f"user {like.user_id} is not one of the bot's users" for like in record.likes
              if like.user_id not in record.posts_of]
    breaks += [f"users {earlier.user_id} and {later.user_id} liked at the same instant {later.created_at}"
               for earlier, later in pairwise(record.likes)
               if earlier.created_at == later.created_at and earlier.user_id != later.user_id]
    pairs = Counter((like.user_id, like.post_id) for like in record.likes)
    breaks += [f"user {user_id} liked post {post_id} {count} times" for (user_id, post_id), count in pairs.items()
               if count > 1]
    breaks += [f"user {user_id} liked their own post {post_id}" for user_id, post_id in pairs
               if author_of.get(post_id) == user_id]
    runs = [(user_id, [like.post_id for like in run])
            for user_id, run in groupby(record.likes, key=lambda like: like.user_id)]
    breaks += [f"user {user_id}'s likes form {count} runs, not one" for user_id, count in
               Counter(user_id for user_id, _ in runs).items() if count > 1]
    return breaks or _order_breaks(record, runs, author_of, max_likes)


def _order_breaks(record: Record, runs: list[tuple[int, list[int]]], author_of: dict[int, int],
                  max_likes: int) -> list[str]:
    """Replay the runs, each as a whole, against the rules' order of likers; the first break found, or none."""
    signup = {user_id: position for position, user_id in enumerate(record.signups)}
    turns = sorted(record.signups, key=lambda user_id: (-len(record.posts_of[user_id]), signup[user_id]))
    like_count = Counter()
    liked_by = {user_id: set() for user_id in record.signups}

    def zero_like_posts() -> list[int]:
        return [post_id for post_id in author_of if like_count[post_id] == 0]

    def may_like(user_id: int) -> set[int]:
        """The posts ``user_id`` may like now: others' posts not liked by them, of authors with a zero-like post."""
        if len(liked_by[user_id]) >= max_likes:
            return set()
        authors = {author_of[post_id] for post_id in zero_like_posts()}
        return {post_id for post_id, author in author_of.items()
                if author in authors and author != user_id and post_id not in liked_by[user_id]}

    pending = iter(runs)
    run = next(pending, None)
    for user_id in turns:
        if not zero_like_posts():
            break
        if run is None or run[0] != user_id:
            if may_like(user_id):
                after = f"user {run[0]} liked next" if run else "nobody liked again"
                return [f"user {user_id}'s turn came with posts to like, but {after}"]
            continue  # passed over, or at the maximum
        if len(run[1]) > max_likes:
            return [f"user {user_id} liked {len(run[1])} posts, more than {max_likes}"]
        allowed = may_like(user_id)
        if refused := [post_id for post_id in run[1] if post_id not in allowed]:
            return [f"user {user_id} liked posts {refused}, which the rules did not allow in their turn"]
        liked_by[user_id].update(run[1])
        like_count.update(run[1])
        if zero_like_posts() and may_like(user_id):
            return [f"user {user_id}'s run stopped at {len(liked_by[user_id])} of {max_likes} likes "
                    "with posts left to like, and did not end the bot"]
        run = next(pending, None)
    if run is not None:
        when = "after no post had 0 likes" if not zero_like_posts() else "out of the rules' order of likers"
        return [f"user {run[0]} liked {when}"]
    return [f"post {post_id} still has 0 likes, yet users {could} could like it" for post_id in zero_like_posts()
            if (could := [user_id for user_id in turns if post_id in may_like(user_id)])]
