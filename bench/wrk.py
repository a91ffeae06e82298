"""Drive a route with wrk (2 threads x 8 connections, keep-alive) and read its rate and latencies."""

import json
import re
import shutil
import subprocess
import tempfile

LUA = """wrk.method = {method}
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
{auth}
"""
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def lua_string(value: str | None) -> str:
    return "nil" if value is None else json.dumps(value)  # a JSON string literal is a valid Lua string here


def run(url: str, *, method: str = "GET", body: dict | None = None, token: str | None = None,
        seconds: float = 5.0, threads: int = 2, connections: int = 8) -> dict:
    """Requests per second, p50 and p99 in milliseconds, and the count of non-2xx answers and socket errors."""
    if shutil.which("wrk") is None:
        raise SystemExit("make bench needs wrk (apt-get install wrk)")
    auth = f'wrk.headers["Authorization"] = {lua_string("Bearer " + token)}' if token else ""
    script = LUA.format(method=lua_string(method), body=lua_string(json.dumps(body) if body is not None else None),
                        auth=auth)
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as handle:
        handle.write(script)
        handle.flush()
        output = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
                                 "-s", handle.name, url], capture_output=True, text=True, check=True,
                                timeout=seconds + 30).stdout
    return parse(output)


def parse(output: str) -> dict:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {pct: _ms(value) for pct, value in re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)", output, re.M)}
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {"rps": round(rps, 1), "p50_ms": latency.get("50"), "p99_ms": latency.get("99"),
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
            "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return round(float(number) * UNITS[unit], 3)


def paired(bare: dict, agora: dict, seconds: float) -> tuple[dict, dict, float | None]:
    """The bare baseline, then Agora's route, back to back: both runs and Agora's ratio to the baseline."""
    baseline = run(seconds=seconds, **bare)
    measured = run(seconds=seconds, **agora)
    return baseline, measured, round(measured["rps"] / baseline["rps"], 3) if baseline["rps"] else None


def failures(measured: dict) -> str:
    """What a run's rate hides, for its printed line: answers that were not 2xx, and socket errors."""
    if measured["non_2xx"] == 0 and measured["socket_errors"] == 0:
        return ""
    return f"  ({measured['non_2xx']} non-2xx, {measured['socket_errors']} socket errors)"
