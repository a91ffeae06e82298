"""The liking rules (SPEC 8, step 3), on hand-built states and on random ones (hypothesis)."""

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.planner import (STOP_EVERYONE_AT_MAX, STOP_NO_ZERO_LIKE_POSTS, STOP_NOTHING_LEFT, LikePlanner,
                         PlannerUser, plan_all)


def users_with(*post_counts: int) -> list[PlannerUser]:
    """Users 1, 2, ... in signup order; user n's posts are n*100+1, n*100+2, ..."""
    return [PlannerUser(n, [n * 100 + k for k in range(1, count + 1)]) for n, count in enumerate(post_counts, 1)]


def likers_in_order(likes) -> list[int]:
    """The likers, one entry per streak."""
    streaks = []
    for liker, _ in likes:
        if not streaks or streaks[-1] != liker:
            streaks.append(liker)
    return streaks


def test_the_user_with_most_posts_likes_first_ties_to_the_earlier_signup():
    planner = LikePlanner(users_with(1, 3, 2, 3, 0), max_likes=1, rng=random.Random(1))
    assert planner.liker_order() == [2, 4, 3, 1, 5]


def test_each_liker_likes_until_the_maximum_before_the_next_one():
    likes, planner = plan_all(users_with(3, 3, 3, 3), max_likes=2, seed=3)
    assert likers_in_order(likes) == [1, 2, 3, 4][:len(likers_in_order(likes))]
    assert all(count == 2 for liker, count in Counter(liker for liker, _ in likes).items())


def test_a_liker_at_the_maximum_is_skipped():
    likes, planner = plan_all(users_with(2, 2), max_likes=0, seed=1)
    assert likes == []
    assert planner.stop_reason == STOP_EVERYONE_AT_MAX


def test_own_posts_are_never_chosen():
    for seed in range(50):
        likes, planner = plan_all(users_with(5, 1, 1), max_likes=3, seed=seed)
        assert all(planner.author_of[post] != liker for liker, post in likes)


def test_no_post_is_liked_twice_by_one_user():
    for seed in range(50):
        likes, _ = plan_all(users_with(4, 4, 4), max_likes=6, seed=seed)
        assert len(likes) == len(set(likes))


def test_authors_without_a_zero_like_post_are_excluded():
    planner = LikePlanner(users_with(1, 2, 2), max_likes=5, rng=random.Random(0))
    planner.apply(3, 101)  # user 1's only post now has a like: user 1 has no zero-like post left
    for _ in range(200):
        assert planner.author_of[planner.pick(2)] != 1


def test_posts_of_eligible_authors_count_even_when_they_have_likes():
    """The rule filters authors, not posts: an author's already-liked posts stay candidates."""
    planner = LikePlanner(users_with(2, 0, 0), max_likes=5, rng=random.Random(0))
    planner.apply(3, 101)  # 101 has a like, 102 still has none: user 1 is still an eligible author
    assert {planner.pick(2) for _ in range(200)} == {101, 102}


def test_each_like_is_uniform_among_the_candidates():
    planner = LikePlanner(users_with(0, 2, 2), max_likes=5, rng=random.Random(12345))
    picks = Counter(planner.pick(1) for _ in range(8000))  # pick() does not change the state
    assert set(picks) == {201, 202, 301, 302}
    assert all(1800 < count < 2200 for count in picks.values()), picks


def test_the_bot_stops_when_no_post_has_zero_likes():
    likes, planner = plan_all(users_with(1, 1), max_likes=5, seed=0)
    assert likes == [(1, 201), (2, 101)]
    assert planner.stop_reason == STOP_NO_ZERO_LIKE_POSTS
    assert planner.zero_like_total == 0


def test_no_posts_at_all_means_no_likes():
    likes, planner = plan_all(users_with(0, 0, 0), max_likes=5, seed=0)
    assert likes == [] and planner.stop_reason == STOP_NO_ZERO_LIKE_POSTS


def test_a_stuck_liker_is_passed_over_and_the_next_one_goes_on():
    # User 1 (most posts) can only like user 2's single post; then user 2's posts have likes, user 1
    # has nothing left and is passed over; user 2 then likes user 1's posts.
    likes, planner = plan_all(users_with(3, 1), max_likes=3, seed=0)
    assert likes[0] == (1, 201)
    assert 1 in planner.passed_over
    assert [liker for liker, _ in likes[1:]] == [2] * (len(likes) - 1)


def test_one_user_owning_every_post_ends():
    likes, planner = plan_all(users_with(50, 0, 0, 0), max_likes=10, seed=0)
    assert planner.passed_over == [1]
    assert Counter(liker for liker, _ in likes) == {2: 10, 3: 10, 4: 10}
    assert planner.stop_reason == STOP_NOTHING_LEFT


def test_a_seed_makes_the_plan_repeatable():
    assert plan_all(users_with(3, 2, 4, 1), 3, seed=9)[0] == plan_all(users_with(3, 2, 4, 1), 3, seed=9)[0]


def test_ten_thousand_posts_plan_quickly_in_linear_time():
    users = users_with(*[10] * 1000)
    likes, planner = plan_all(users, max_likes=20, seed=1)
    assert len(likes) == 20_000 and planner.stop_reason == STOP_EVERYONE_AT_MAX


def replay(users: list[PlannerUser], max_likes: int, likes, planner) -> None:
    """Check every rule on a plan by re-living it from scratch with a naive, obviously right model."""
    author = {post: user.id for user in users for post in user.post_ids}
    like_count = Counter()
    given = Counter()
    liked = set()
    order = sorted(users, key=lambda user: (-len(user.post_ids), users.index(user)))
    skipped = set()
    position = 0
    for liker, post in likes:
        assert any(like_count[p] == 0 for p in author), "a like after no post had 0 likes"
        # The liker is the first user in order who is under the maximum and not passed over.
        while order[position].id != liker:
            user = order[position]
            assert given[user.id] >= max_likes or user.id in planner.passed_over, "a liker was skipped"
            skipped.add(user.id)
            position += 1
        assert author[post] != liker, "a self-like"
        assert (liker, post) not in liked, "a post liked twice by one user"
        assert given[liker] < max_likes, "a liker past the maximum"
        assert any(like_count[p] == 0 for p in author if author[p] == author[post]), "an author without 0-like posts"
        liked.add((liker, post))
        like_count[post] += 1
        given[liker] += 1
    zero_left = [p for p in author if like_count[p] == 0]
    assert planner.zero_like_total == len(zero_left)
    if planner.stop_reason == STOP_NO_ZERO_LIKE_POSTS:
        assert not zero_left
    elif planner.stop_reason == STOP_EVERYONE_AT_MAX:
        assert zero_left and all(given[user.id] == max_likes for user in users)
    else:
        assert planner.stop_reason == STOP_NOTHING_LEFT and zero_left and planner.passed_over
    for user_id in planner.passed_over:  # nothing was left for them: no candidate exists even now
        assert given[user_id] < max_likes
        assert not [p for p in author if author[p] != user_id and (user_id, p) not in liked
                    and any(like_count[q] == 0 for q in author if author[q] == author[p])]


@settings(max_examples=300, deadline=None)
@given(post_counts=st.lists(st.integers(min_value=0, max_value=6), max_size=9),
       max_likes=st.integers(min_value=0, max_value=8), seed=st.integers(min_value=0, max_value=2**32))
def test_every_rule_holds_on_random_configurations(post_counts, max_likes, seed):
    users = users_with(*post_counts)
    likes, planner = plan_all(users, max_likes, seed)
    replay(users, max_likes, likes, planner)
