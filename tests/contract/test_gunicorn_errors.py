"""app.core.serving: gunicorn's own refusals (request line over limit_request_line, headers over
limit_request_fields or limit_request_field_size) answer in the spec's JSON error shape, on a real gunicorn."""

import json
import socket
from urllib.parse import urlsplit

import pytest
import requests

from tests.contract.live import SYNC_WORKER, THREAD_WORKER, gunicorn
from tests.servers import server_env

# gunicorn's defaults (gunicorn.conf.py sets none of them): 4094 bytes of request line, 100 headers of 8190 bytes.
LONG_PATH = "/api/v1/posts?cursor=" + "a" * 5000
TOO_MANY_HEADERS = {f"X-Filler-{n}": "1" for n in range(101)}


@pytest.fixture(scope="module", params=[THREAD_WORKER, SYNC_WORKER], ids=["gthread", "sync"])
def server(request, tmp_path_factory):
    home = tmp_path_factory.mktemp("gunicorn-errors")
    with gunicorn(server_env(home), home / "gunicorn.log", worker_class=request.param) as url:
        assert f"Using worker: {request.param}" in (home / "gunicorn.log").read_text()
        yield url, home / "gunicorn.log"


def raw_request(url: str, head: bytes) -> bytes:
    """Send ``head`` as is and read the whole answer (the server closes the connection)."""
    address = urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(head)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def parse(answer: bytes) -> tuple[int, dict, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    assert int(headers["content-length"]) == len(body)
    return int(status_line.split()[1]), headers, json.loads(body)


def assert_json_error(status, headers, body, expected_status, code):
    assert status == expected_status
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"  # as the app's own answers
    error = body["error"]
    assert (error["status"], error["code"]) == (expected_status, code)
    assert error["message"] and "<" not in error["message"]
    assert error["request_id"] == headers["x-request-id"] and len(error["request_id"]) == 32
    assert set(error) == {"status", "code", "message", "request_id"}


def test_an_over_long_request_line_is_json_414(server):
    url, _ = server
    response = requests.get(url + LONG_PATH, timeout=10)
    assert_json_error(response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.json(),
                      414, "uri_too_long")


def test_an_over_sized_header_is_json_431(server):
    url, _ = server
    response = requests.get(f"{url}/healthz", headers={"X-Filler": "x" * 9000}, timeout=10)
    assert_json_error(response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.json(),
                      431, "headers_too_large")


def test_too_many_headers_is_json_431(server):
    url, _ = server
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(
        f"{name}: {value}\r\n".encode() for name, value in TOO_MANY_HEADERS.items()) + b"\r\n"
    assert_json_error(*parse(raw_request(url, head)), 431, "headers_too_large")


def test_an_over_sized_token_is_json_431(server):
    url, _ = server
    response = requests.get(f"{url}/api/v1/users/me", headers={"Authorization": "Bearer " + "x" * 9000}, timeout=10)
    assert (response.status_code, response.json()["error"]["code"]) == (431, "headers_too_large")


def test_other_malformed_requests_keep_gunicorns_answer(server):
    """Only the two limits are answered here: a broken request line is still gunicorn's 400."""
    url, _ = server
    answer = raw_request(url, b"GET /healthz NOT-HTTP\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")


def test_the_server_still_serves_after_refusing(server):
    url, log_path = server
    requests.get(url + LONG_PATH, timeout=10)
    response = requests.get(f"{url}/healthz", timeout=10)
    assert response.status_code == 200
    assert "Traceback" not in log_path.read_text(errors="replace")
    assert "uri_too_long" in log_path.read_text(errors="replace")  # logged, with its request id
