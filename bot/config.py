"""``bot.json``: three integers >= 0 and an optional seed, or one clear line saying what is wrong."""

import json
from dataclasses import dataclass
from pathlib import Path

REQUIRED = ("number_of_users", "max_posts_per_user", "max_likes_per_user")
OPTIONAL = ("seed",)


class BotConfigError(Exception):
    """A bot.json the bot cannot run with; the message is the one line shown to the user."""


@dataclass(frozen=True)
class BotConfig:
    number_of_users: int
    max_posts_per_user: int
    max_likes_per_user: int
    seed: int | None = None


def load_config(path: str | Path) -> BotConfig:
    """Read and validate ``path``; raise BotConfigError naming the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BotConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BotConfigError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BotConfigError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    return parse_config(data, source=str(path))


def parse_config(data, *, source: str = "bot config") -> BotConfig:
    if not isinstance(data, dict):
        raise BotConfigError(f"{source}: expected a JSON object like "
                             '{"number_of_users": 10, "max_posts_per_user": 5, "max_likes_per_user": 5}')
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise BotConfigError(f"{source}: unknown key {unknown[0]!r} (expected {', '.join(REQUIRED)}, optional seed)")
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise BotConfigError(f"{source}: missing key {missing[0]!r}")
    for key in (*REQUIRED, *[key for key in OPTIONAL if key in data]):
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise BotConfigError(f"{source}: {key} must be an integer, not {json.dumps(value)}")
        if key in REQUIRED and value < 0:
            raise BotConfigError(f"{source}: {key} must be >= 0, not {value}")
    return BotConfig(**{key: data[key] for key in (*REQUIRED, *OPTIONAL) if key in data})
