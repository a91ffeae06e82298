"""The record checker on hand-built records: it passes what keeps SPEC 8 and names each break."""

import random
from datetime import datetime, timedelta, timezone
from itertools import accumulate, groupby

from bot.planner import PlannerUser, plan_all
from tests.bot.record import Record, StoredLike, rule_breaks

START = datetime(2026, 12, 6, tzinfo=timezone.utc)
# Users 1, 2 and 3 signed up in that order, two posts each; the rules' order of likers is 1, 2, 3.
THREE_BY_TWO = {1: [10, 11], 2: [20, 21], 3: [30, 31]}
# 1 likes 20, 30; 2 likes 10, 31; 3 likes 11, 21, the last zero-like post: the bot stops.
KEPT = [(1, 20), (1, 30), (2, 10), (2, 31), (3, 11), (3, 21)]


def record(likes: list[tuple[int, int]], posts_of: dict = THREE_BY_TWO, signups: list[int] | None = None) -> Record:
    """The likes stored one microsecond apart, in the order given."""
    return Record(signups=signups or sorted(posts_of), posts_of=posts_of,
                  likes=[StoredLike(START + timedelta(microseconds=n), user_id, post_id)
                         for n, (user_id, post_id) in enumerate(likes)])


def test_a_record_that_keeps_the_rules_has_no_breaks():
    assert rule_breaks(record(KEPT), max_likes=2) == []


def test_a_liker_with_nothing_left_is_passed_over_with_a_short_run():
    # 1 may like only 20 (the rest is theirs), then 2 likes 1's posts and no post has 0 likes.
    posts_of = {1: [10, 11], 2: [20], 3: []}
    assert rule_breaks(record([(1, 20), (2, 10), (2, 11)], posts_of), max_likes=2) == []


def test_runs_crossing_each_other_break_one_run_per_user():
    crossed = [(1, 20), (2, 10), (1, 30), (2, 31), (3, 11), (3, 21)]
    assert rule_breaks(record(crossed), max_likes=2) == ["user 1's likes form 2 runs, not one",
                                                         "user 2's likes form 2 runs, not one"]


def test_runs_out_of_the_likers_order_are_a_break():
    swapped = [(2, 10), (2, 31), (1, 20), (1, 30), (3, 11), (3, 21)]
    assert rule_breaks(record(swapped), max_likes=2) == ["user 1's turn came with posts to like, but user 2 liked next"]


def test_ties_go_to_the_earlier_signup_as_recorded():
    assert rule_breaks(record(KEPT, signups=[2, 1, 3]), max_likes=2) == [
        "user 2's turn came with posts to like, but user 1 liked next"]


def test_a_short_run_that_did_not_end_the_bot_is_a_break():
    short = [(1, 20), (2, 10), (2, 31), (3, 11), (3, 21)]
    assert rule_breaks(record(short), max_likes=2) == [
        "user 1's run stopped at 1 of 2 likes with posts left to like, and did not end the bot"]


def test_a_like_of_an_author_without_a_zero_like_post_is_a_break():
    # After 1 likes 20 and 21, user 2 has no zero-like post left: 3 may not like 20.
    likes = [(1, 20), (1, 21), (2, 10), (2, 30), (3, 20), (3, 11)]
    assert rule_breaks(record(likes), max_likes=2) == ["user 3 liked posts [20], which the rules did not allow in their turn"]


def test_the_likes_within_a_run_may_be_stored_in_any_order():
    # 3 may like 20 (liked by 1) and 21 (2's last zero-like post): stored 21 first, 20 came after no post had 0 likes.
    likes = [(1, 20), (1, 30), (2, 10), (2, 11), (3, 21), (3, 20)]
    posts_of = {1: [10, 11], 2: [20, 21], 3: [30]}
    assert rule_breaks(record(likes, posts_of), max_likes=2) == []
    assert rule_breaks(record(likes[:4] + [(3, 21), (3, 10)], posts_of), max_likes=2) == [
        "user 3 liked posts [10], which the rules did not allow in their turn"]


def test_more_likes_than_the_maximum_is_a_break():
    assert rule_breaks(record(KEPT), max_likes=1) == ["user 1 liked 2 posts, more than 1"]


def test_self_likes_and_duplicates_are_breaks():
    assert rule_breaks(record([(1, 10), (1, 20)]), max_likes=2) == ["user 1 liked their own post 10"]
    assert rule_breaks(record([(1, 20), (1, 20)]), max_likes=2) == ["user 1 liked post 20 2 times"]


def test_a_like_after_no_post_had_0_likes_is_a_break():
    posts_of = {1: [10], 2: [20], 3: []}
    assert rule_breaks(record([(1, 20), (2, 10), (3, 10)], posts_of), max_likes=1) == [
        "user 3 liked after no post had 0 likes"]


def test_stopping_while_someone_could_still_like_is_a_break():
    assert rule_breaks(record(KEPT[:2]), max_likes=2) == ["user 2's turn came with posts to like, but nobody liked again"]


def test_two_users_at_the_same_instant_have_no_recorded_order():
    tied = record(KEPT)
    tied.likes[2] = StoredLike(tied.likes[1].created_at, 2, 10)
    assert rule_breaks(tied, max_likes=2) == [f"users 1 and 2 liked at the same instant {tied.likes[1].created_at}"]


def planned_world(seed: int) -> tuple[Record, int]:
    """A random small world and the planner's likes for it, stored in plan order."""
    rng = random.Random(seed)
    posts = iter(range(1, 1000))
    posts_of = {user_id: [next(posts) for _ in range(rng.randint(0, 4))] for user_id in range(1, rng.randint(1, 9))}
    max_likes = rng.randint(0, 5)
    likes, _planner = plan_all([PlannerUser(user_id, post_ids) for user_id, post_ids in posts_of.items()],
                               max_likes, seed)
    return record(likes, posts_of), max_likes


def test_every_plan_of_the_planner_keeps_the_rules_on_record():
    for seed in range(300):
        kept, max_likes = planned_world(seed)
        assert rule_breaks(kept, max_likes) == [], f"seed {seed}"


def test_any_two_runs_crossing_at_a_boundary_is_a_break():
    crossed = 0
    for seed in range(300):
        kept, max_likes = planned_world(seed)
        ends = list(accumulate(len(list(run)) for _user, run in groupby(kept.likes, key=lambda like: like.user_id)))
        if len(ends) < 2:
            continue  # one run or none: nothing to cross
        boundary = ends[seed % (len(ends) - 1)]  # the first like of a run, stored before the last of the one before
        likes = [(like.user_id, like.post_id) for like in kept.likes]
        likes[boundary - 1], likes[boundary] = likes[boundary], likes[boundary - 1]
        assert rule_breaks(record(likes, kept.posts_of), max_likes) != [], f"seed {seed}"
        crossed += 1
    assert crossed > 100
