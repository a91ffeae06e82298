"""Two people who talk, signed up through the API: ``(profile, headers)`` each."""

import pytest


@pytest.fixture
def ann(sign_up):
    return sign_up(name="Ann")


@pytest.fixture
def bob(sign_up):
    return sign_up(name="Bob")
