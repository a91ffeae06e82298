"""The points rule."""

import pytest

from app.chat.rules import congratulation, is_reward_total


@pytest.mark.parametrize("total, rewarded", [(0, False), (1, False), (9, False), (10, True), (11, False),
                                             (19, False), (20, True), (99, False), (100, True)])
def test_every_tenth_point_is_rewarded(total, rewarded):
    assert is_reward_total(total) is rewarded


def test_the_congratulation_names_the_person_and_the_total():
    assert congratulation("Ann", 20) == "Congratulations, Ann! You reached 20 points."


@pytest.mark.parametrize("total", [9, 11, 19])
def test_no_congratulation_between_multiples(total):
    assert congratulation("Ann", total) is None
