"""Two people who talk, signed up through the API: ``(profile, headers)`` each."""

import pytest


@pytest.fixture
def ann(signup):
    return signup(name="Ann")


@pytest.fixture
def bob(signup):
    return signup(name="Bob")
