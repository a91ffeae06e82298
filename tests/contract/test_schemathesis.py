"""The contract test: schemathesis checks that /openapi.json says exactly what a live server does.

A real gunicorn (``make serve``'s, with the JSON-error worker of app.core.serving) on a fresh SQLite
file, with the SMS outbox and RATELIMIT_ENABLED=false, is driven by ``schemathesis run`` (pinned in
setup.cfg: the same seed then generates the same cases) with every phase (examples, coverage, fuzzing,
stateful) and every check, authenticated as a client is (tests/contract/hooks.py). Its configuration,
and why each exception in it is one, is tests/contract/schemathesis.toml. The test passes when
schemathesis finds no failure; otherwise its own report (each failure with a curl line to reproduce
it) is the assertion message.
"""

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import requests

from tests.accounts import bearer, sign_up_over_http
from tests.contract.live import gunicorn
from tests.servers import ROOT, migrate, server_env

HERE = Path(__file__).resolve().parent
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
PINNED = "4.32.5"
# Test cases per operation in the fuzzing phase (the stateful phase: up to 150 scenarios, see the toml):
# 100, as in the report of issue 17, is 3,488 requests and 35-60 s for the whole test (server start
# included) on this 2-core machine; RUN_TIMEOUT bounds a run that hangs.
MAX_EXAMPLES = 100
# A hung run fails the test, well before pytest-timeout; a busy machine (CI beside other work) took 100-150 s.
RUN_TIMEOUT = 300
# Logout revokes the token every other request carries (SPEC 4); tests/auth tests it. The event stream
# answers text/event-stream and never ends while its token lives; tests/events and tests/stack test it.
EXCLUDED = ["POST /api/v1/auth/logout", "GET /api/v1/events"]


def seed(url: str) -> dict:
    """The test's account, and a second one whose post and invite code it can reach (a like, an activation)."""
    me = sign_up_over_http(url, "contract@example.com", name="contract", timeout=30)
    other = sign_up_over_http(url, "other@example.com", name="other", timeout=30)
    headers = bearer(other["access_token"])
    for body in ("Someone else's post, to like.", "And another."):
        response = requests.post(f"{url}/api/v1/posts", json={"title": "Hello", "body": body}, headers=headers,
                                 timeout=30)
        assert response.status_code == 201, response.text
    return me


@pytest.fixture
def live_server(tmp_path):
    # Cheaper password hashes (the setting exists for this): the run signs up an account per PATCH /users/me case.
    env = server_env(tmp_path, JWT_ACCESS_MINUTES="60", PASSWORD_HASH_TIME_COST="1", PASSWORD_HASH_MEMORY_KIB="8192")
    migrate(env)
    with gunicorn(env, tmp_path / "gunicorn.log") as url:
        yield url, tmp_path / "gunicorn.log"


@pytest.mark.timeout(RUN_TIMEOUT + 30)
def test_schemathesis_finds_no_contract_failure(live_server, tmp_path):
    url, server_log = live_server
    me = seed(url)
    report = tmp_path / "report"
    command = [
        str(SCHEMATHESIS), "--config-file", str(HERE / "schemathesis.toml"), "run", f"{url}/openapi.json",
        "--phases", "examples,coverage,fuzzing,stateful", "--checks", "all", "--max-examples", str(MAX_EXAMPLES),
        "--report", "junit", "--report-junit-path", str(report / "junit.xml"), "--no-color",
        *[option for name in EXCLUDED for option in ("--exclude-name", name)],
    ]
    env = {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.contract.hooks", "AGORA_BASE_URL": url,
        "AGORA_ACCESS_TOKEN": me["access_token"],
    }
    started = time.monotonic()
    # Run from tmp_path: whatever schemathesis or Hypothesis might write stays out of the repository.
    run = subprocess.run(command, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         timeout=RUN_TIMEOUT)
    elapsed = time.monotonic() - started
    (tmp_path / "schemathesis.txt").write_text(run.stdout + run.stderr)  # the whole report, for a reader
    output = (f"{run.stdout[-25000:]}\n{run.stderr[-5000:]}\n--- server log (end) ---\n"
              f"{server_log.read_text(errors='replace')[-3000:]}")
    assert f"v{PINNED}" in run.stdout, f"schemathesis {PINNED} is pinned (setup.cfg):\n{output}"
    assert run.returncode == 0, f"schemathesis exited with {run.returncode} after {elapsed:.0f}s:\n{output}"

    suites = ElementTree.parse(report / "junit.xml").getroot()
    cases = suites.findall(".//testcase")
    failed = [case.get("name") for case in cases if case.find("failure") is not None or case.find("error") is not None]
    assert not failed, f"{failed}\n{output}"
    assert len(cases) >= 25, output  # every operation but the excluded one was tested
    assert "Stateful" in run.stdout or "stateful" in run.stdout, output
    assert "Traceback" not in server_log.read_text(errors="replace"), output
    # Hypothesis kept no examples (generation.database = "none"): the next run starts from the seed alone.
    assert not (tmp_path / ".hypothesis" / "examples").exists()
