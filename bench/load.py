"""A small closed-loop load generator: N threads, each with its own session, for a fixed time."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests


def measure(make_request, *, seconds: float, threads: int, max_requests: int = 200_000) -> dict:
    """Run ``make_request(session, n)`` from ``threads`` threads for ``seconds``; requests/s and errors."""
    counter = iter(range(max_requests))
    lock = threading.Lock()
    done = {"ok": 0, "errors": 0}
    stop_at = time.monotonic() + seconds

    def loop():
        with requests.Session() as session:
            while time.monotonic() < stop_at:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                try:
                    ok = make_request(session, n)
                except requests.RequestException:
                    ok = False
                with lock:
                    done["ok" if ok else "errors"] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(loop) for _ in range(threads)]:
            future.result()
    elapsed = time.monotonic() - started
    return {"requests": done["ok"], "errors": done["errors"], "seconds": round(elapsed, 2),
            "rps": round(done["ok"] / elapsed, 1)}
