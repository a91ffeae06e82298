"""Each fence of app/internals finds its library as it was written against, or fails naming the library and version."""

import importlib
import pkgutil
from importlib.metadata import version

import pytest
from packaging.specifiers import SpecifierSet

import app.internals

FENCES = [importlib.import_module(f"app.internals.{module.name}") for module in pkgutil.iter_modules(app.internals.__path__)]


def test_every_fence_names_its_library_and_versions():
    assert {fence.LIBRARY for fence in FENCES} == {"kombu", "marshmallow"}
    assert all(SpecifierSet(fence.WRITTEN_AGAINST) for fence in FENCES)


@pytest.mark.parametrize("fence", FENCES, ids=lambda fence: fence.LIBRARY)
def test_the_installed_library_is_one_the_fence_was_written_against(fence):
    installed = version(fence.LIBRARY)
    assert installed in SpecifierSet(fence.WRITTEN_AGAINST), (
        f"{fence.LIBRARY} {installed} is outside {fence.WRITTEN_AGAINST}, the versions {fence.__name__} was written "
        f"against: check what it relies on (its docstring), then widen WRITTEN_AGAINST")


@pytest.mark.parametrize("fence", FENCES, ids=lambda fence: fence.LIBRARY)
def test_the_library_still_has_the_shape_the_fence_relies_on(fence):
    problems = fence.shape_problems()
    assert problems == [], (f"{fence.LIBRARY} {version(fence.LIBRARY)} changed what {fence.__name__} relies on:\n"
                            + "\n".join(problems))


def test_a_kombu_channel_without_connparams_is_a_problem(monkeypatch):
    from kombu.transport import redis as kombu_redis

    from app.internals import kombu

    monkeypatch.delattr(kombu_redis.Channel, "_connparams")
    assert kombu.shape_problems() == ["kombu.transport.redis.Channel._connparams is gone: the guard wraps nothing"]


def test_a_closed_channel_raises_a_connection_error_once_guarded(monkeypatch):
    from kombu.transport import redis as kombu_redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    from app.internals.kombu import closed_redis_channels_raise_connection_errors

    monkeypatch.setattr(kombu_redis.Channel, "_connparams", kombu_redis.Channel._connparams)  # restored afterwards
    closed_redis_channels_raise_connection_errors()
    closed_redis_channels_raise_connection_errors()  # once: a second call wraps nothing again
    channel = object.__new__(kombu_redis.Channel)
    channel.connection = None
    with pytest.raises(RedisConnectionError, match="closed"):
        kombu_redis.Channel._connparams(channel)
    assert kombu_redis.Channel._connparams.__wrapped__.__name__ == "_connparams"
    assert not hasattr(kombu_redis.Channel._connparams.__wrapped__, "__wrapped__")
