"""Reading a code as its addressee would: polling a development outbox (SMS or mail) until it arrives."""

import re
import time
from collections.abc import Callable


def newest_code(items: Callable[[], list[dict]], code: re.Pattern, *, count: int = 1, timeout: float = 5.0,
                what: str = "message") -> str:
    """Wait until ``items()`` (an outbox, newest first) holds ``count`` messages; the code in the newest."""
    deadline = time.monotonic() + timeout
    while True:
        found = items()
        if len(found) >= count:
            return code.search(found[0]["body"]).group(1)
        assert time.monotonic() < deadline, f"no {what} arrived"
        time.sleep(0.01)
