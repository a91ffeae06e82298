"""``make bench``: every benchmark in one run, each against a baseline measured in the same run.

Writes bench/results.json; bench/README.md explains the figures and holds the last results.
``python -m bench --only routes,scale`` runs a subset; ``--only live`` the live events (BENCH_LIVE_STREAMS
sets fewer streams than issue 27's 10,000 for a quick run).
"""

import argparse
import json
import os
import platform
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import bot, live, phone_codes, routes, scale

RESULTS = Path(__file__).with_name("results.json")
ALL = ("routes", "bot", "scale", "phone_codes", "live")


def machine() -> dict:
    """What the figures were measured on: they are ratios, but the machine still matters."""
    def version(command: list[str]) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "unknown"

    return {"cpus": os.cpu_count(), "arch": platform.machine(), "python": platform.python_version(),
            "postgres": version(["psql", "--version"]), "redis": version(["redis-server", "--version"])}


def summarise_routes(rows: list[dict]) -> list[dict]:
    """One line per route: the ratio of each round, and whether the worst round meets the target."""
    by_route: dict[str, dict] = {}
    for row in rows:
        entry = by_route.setdefault(row["route"], {"route": row["route"], "target": row["target"], "ratios": [],
                                                   "agora_rps": [], "p50_ms": [], "p99_ms": []})
        entry["ratios"].append(row["ratio"])
        entry["agora_rps"].append(row["agora"]["rps"])
        entry["p50_ms"].append(row["agora"]["p50_ms"])
        entry["p99_ms"].append(row["agora"]["p99_ms"])
    for entry in by_route.values():
        entry["met"] = min(entry["ratios"]) >= entry["target"]
    return list(by_route.values())


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(ALL))
    args = parser.parse_args(argv)
    wanted = args.only.split(",")
    started = time.monotonic()
    # A partial run (--only) replaces its own sections and keeps the others, each with its own time.
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() and set(wanted) != set(ALL) else {}
    results: dict = {**previous, "machine": machine()}
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    results["measured_at"] = {**(previous.get("measured_at") if isinstance(previous.get("measured_at"), dict)
                                 else {}), **{name: now for name in wanted}}
    if "routes" in wanted:
        print("== hot routes against bare Flask + psycopg (bench.routes)", flush=True)
        rows = routes.main([])
        results["routes"] = {"rounds": rows, "summary": summarise_routes(rows)}
    if "bot" in wanted:
        print("\n== the bot at 200 x 10 x 20 against its password-hash floor (bench.bot)", flush=True)
        results["bot"] = bot.main(["--sizes", "200x10x20"])
    if "scale" in wanted:
        print("\n== scale: 10,000 and 1,000,000 posts (bench.scale)", flush=True)
        results["scale"] = scale.main([])
    if "phone_codes" in wanted:
        print("\n== phone codes are not bound by the SMS delay (bench.phone_codes)", flush=True)
        results["phone_codes"] = phone_codes.main([])
    if "live" in wanted:
        # BENCH_LIVE_STREAMS=1000 for a shorter run; the default is issue 27's 10,000 streams.
        print("\n== live events: 10,000 streams, 500 events/s through the API, the hot route beside (bench.live)",
              flush=True)
        results["live"] = live.main([])
    results["seconds"] = round(time.monotonic() - started, 1)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {RESULTS} ({results['seconds']} s)")
    return results


if __name__ == "__main__":
    main()
