"""The points rule: every message earns one point; every tenth point earns a congratulation."""

REWARD_EVERY = 10


def is_reward_total(total: int) -> bool:
    """True when a new point total is a multiple of 10 (10, 20, 30, ...)."""
    return total > 0 and total % REWARD_EVERY == 0


def congratulation(name: str, total: int) -> str | None:
    """The congratulation message for reaching ``total`` points, or None when there is none to give."""
    if not is_reward_total(total):
        return None
    return f"Congratulations, {name}! You reached {total} points."
