"""The run's floor: the argon2id hashes no server can skip (one at signup, one at login, per user).

The bot never imports the app, so the cost comes from its caller: the served app's settings
in-process, else ``--hash-cost`` (defaults: the server's, OWASP's minimum t=2, m=19 MiB, p=1).
The hashes are timed one after another in this process while the server is idle: half
before the run and half after, so a machine that gets faster or slower meanwhile evens out.
"""

import secrets
import time
from dataclasses import asdict, dataclass

from argon2 import PasswordHasher, Type

HASHES_PER_USER = 2  # signup hashes the password, login verifies it (one more hash)


@dataclass(frozen=True)
class HashCost:
    """argon2id's parameters, as the server's PASSWORD_HASH_TIME_COST, _MEMORY_KIB and _PARALLELISM."""

    time_cost: int = 2
    memory_kib: int = 19 * 1024
    parallelism: int = 1

    @classmethod
    def parse(cls, text: str) -> "HashCost":
        """``"2,19456,1"``: time cost, memory in KiB, parallelism; ValueError if it is not that."""
        parts = text.split(",")
        if len(parts) != 3 or not all(part.strip().isdigit() and int(part) > 0 for part in parts):
            raise ValueError(f"expected TIME,MEMORY_KIB,PARALLELISM as three positive integers, not {text!r}")
        return cls(*(int(part) for part in parts))

    def __str__(self) -> str:
        return f"t={self.time_cost}, m={self.memory_kib} KiB, p={self.parallelism}"


@dataclass(frozen=True)
class HashFloor:
    """``hashes`` at ``seconds_per_hash`` each, one after another; ``timed`` of them were measured."""

    hashes: int
    timed: int
    seconds_per_hash: float
    cost: HashCost

    @property
    def seconds(self) -> float:
        return self.hashes * self.seconds_per_hash

    def report(self) -> dict:
        return {"hashes": self.hashes, "timed": self.timed, "seconds_per_hash": round(self.seconds_per_hash, 6),
                "seconds": round(self.seconds, 3), "cost": asdict(self.cost)}


class HashClock:
    """Times argon2id hashes at one cost, one after another, in as many batches as wanted."""

    def __init__(self, cost: HashCost):
        self.cost = cost
        self.hasher = PasswordHasher(time_cost=cost.time_cost, memory_cost=cost.memory_kib,
                                     parallelism=cost.parallelism, type=Type.ID)
        self.password = secrets.token_urlsafe(12)  # the bot's passwords are this long
        self.timed = 0
        self.seconds = 0.0

    def time(self, count: int) -> None:
        started = time.perf_counter()
        for _ in range(count):
            self.hasher.hash(self.password)
        self.seconds += time.perf_counter() - started
        self.timed += count

    def floor(self, hashes: int) -> HashFloor:
        """``hashes`` at the mean time of those timed so far."""
        return HashFloor(hashes, self.timed, self.seconds / self.timed if self.timed else 0.0, self.cost)


def measure_hash_floor(hashes: int, cost: HashCost, *, sample: int | None = None) -> HashFloor:
    """Time ``sample`` of ``hashes`` argon2id hashes (all when None) one after another; the rest at their mean."""
    clock = HashClock(cost)
    clock.time(hashes if sample is None else min(hashes, sample))
    return clock.floor(hashes)
